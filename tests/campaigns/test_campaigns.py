"""`zaza campaigns list` and `zaza campaigns show` against a real sandbox."""

from __future__ import annotations

from typing import Any

from conftest import api_get, tsv


def test_campaigns_list_and_show(cli: Any, sandbox: Any) -> None:
    campaigns = api_get(sandbox, "campaigns")
    campaigns = campaigns["content"] if isinstance(campaigns, dict) else campaigns
    listed = cli("campaigns", "list")
    assert [int(r[0]) for r in tsv(listed.stdout)] == [c["id"] for c in campaigns]
    with_stats = next(c for c in campaigns if c.get("leadStats"))
    shown = cli("campaigns", "show", str(with_stats["id"]))
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert "# Leads" in lines
    for status, count in with_stats["leadStats"].items():
        assert any(line.startswith(f"{status}\t{count}\t") for line in lines)
    assert "# Calling hours" in lines


def test_campaign_show_terminal_draws_bars(cli: Any, sandbox: Any) -> None:
    campaigns = api_get(sandbox, "campaigns")
    campaigns = campaigns["content"] if isinstance(campaigns, dict) else campaigns
    with_stats = next(c for c in campaigns if c.get("leadStats"))
    shown = cli("campaigns", "show", str(with_stats["id"]), ZAZA_FORCE_TTY="1")
    assert "█" in shown.stdout
    assert with_stats["name"] in shown.stdout
