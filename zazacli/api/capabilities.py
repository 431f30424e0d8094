"""What the ZazaVoice API can do today, and what only the dashboard can do.

One table, CAPABILITIES, written from the contract's "Endpoints that exist today" and
"What the API does not do today": `zaza capabilities` prints it, and every command a user
will try for a dashboard-only feature (`zaza sms send`, `zaza campaigns start` …) answers
from it with one line and exit 2 (see zazacli/commands/stubs.py).
"""

from __future__ import annotations

from typing import NamedTuple


class Capability(NamedTuple):
    feature: str
    # Supported: the endpoints and the commands that use them.
    endpoints: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    # Dashboard-only: where in the dashboard, and the commands users will try for it.
    dashboard: str | None = None
    tries: tuple[str, ...] = ()


# [assumed] The dashboard's menu names are not in the public API pages; they are our best
# reading of the dashboard and live only here, so one place changes when they differ.
CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "list and show voice agents",
        ("GET /agents", "GET /agents/{id}"),
        ("zaza agents list", "zaza agents show"),
    ),
    Capability(
        "dispatch an outbound AI call",
        ("POST /calls/outbound",),
        ("zaza calls dispatch", "zaza calls batch"),
    ),
    Capability(
        "call history, filtered by direction, status, agent and date range",
        ("GET /calls",),
        ("zaza calls list", "zaza calls tail"),
    ),
    Capability(
        "one call with its transcript",
        ("GET /calls/{id}",),
        ("zaza calls show", "zaza calls transcript", "zaza calls wait"),
    ),
    Capability(
        "list and show campaigns (read-only)",
        ("GET /campaigns", "GET /campaigns/{id}"),
        ("zaza campaigns list", "zaza campaigns show"),
    ),
    Capability(
        "receive signed webhook events (call.*, campaign.lead.updated, sms.received, "
        "appointment.created)",
        ("POST to your HTTPS endpoint",),
        ("zaza webhooks listen", "zaza webhooks verify", "zaza webhooks trigger"),
    ),
    Capability(
        "sending SMS",
        dashboard="SMS",
        tries=("sms",),
    ),
    Capability(
        "creating, editing and deleting agents",
        dashboard="Agents",
        tries=("agents create", "agents update", "agents edit", "agents delete"),
    ),
    Capability(
        "creating and controlling campaigns (leads, start, pause, restart)",
        dashboard="Campaigns",
        tries=(
            "campaigns create",
            "campaigns start",
            "campaigns pause",
            "campaigns resume",
            "campaigns restart",
            "campaigns stop",
            "campaigns leads",
            "campaigns delete",
        ),
    ),
    Capability(
        "searching, buying, releasing and assigning phone numbers",
        dashboard="Phone Numbers",
        tries=("numbers",),
    ),
    Capability(
        "managing webhook endpoints and their signing secrets",
        dashboard="Settings → Webhooks",
        tries=("webhooks add", "webhooks create", "webhooks delete", "webhooks remove"),
    ),
    Capability(
        "per-call recording control",
        dashboard="Settings → Call recording",
        tries=("calls record",),
    ),
)


def dashboard_message(capability: Capability) -> str:
    return (
        f"{capability.feature} is not available in the ZazaVoice API yet; "
        f"use the dashboard: {capability.dashboard}"
    )


# Command path (below `zaza`) -> the one line it answers with. A one-word path is a whole
# noun that does not exist (`zaza sms …`): it swallows any subcommand and option.
DASHBOARD_ONLY: dict[str, str] = {
    path: dashboard_message(capability)
    for capability in CAPABILITIES
    if capability.dashboard
    for path in capability.tries
}
