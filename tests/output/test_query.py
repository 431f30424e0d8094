"""`--jq` and `--template` through the real CLI: against the sandbox, a hostile API and a
webhook listener. What jq prints is checked against the jq package run over what `-o json`
printed (strings raw, other values as compact JSON), so every shortcut zaza takes for a
long list (a field read in Python, a list run in slices) must print what jq would."""

from __future__ import annotations

import json
import re
import signal
from typing import Any

import jq
import pytest
from conftest import Cli, FaultServer, api_get, listen_process, no_waiting
from test_terminal_safety import HOSTILE, KEY, assert_inert, hostile_api

from zazacli.output.query import SLICE
from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data

SECRET = "whsec_query_test_0c7a2f4b1d9e"


def jq_says(expression: str, document: str) -> str:
    """What jq prints for `expression` over `document`, as --jq prints it."""
    lines = []
    for value in jq.compile(expression).input_text(document):
        if isinstance(value, str):
            lines.append(value)
        else:
            lines.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return "".join(line + "\n" for line in lines)


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.stdout[-800:], result.stderr[-800:])
    return str(result.stdout)


def one_error_line(result: Any, code: int) -> str:
    """The command failed with `code`, said so on one stderr line, and printed no traceback."""
    assert result.exit_code == code, (result.stdout[-500:], result.stderr[-500:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


# ---------------------------------------------------------------- --jq over lists


def test_jq_ids_are_the_ids_of_the_json_list(cli: Cli) -> None:
    listed = json.loads(ok(cli("calls", "list", "--all", "-o", "json")))
    assert len(listed) == 300
    shown = ok(cli("calls", "list", "--all", "--jq", ".[].id"))
    assert shown.splitlines() == [str(call["id"]) for call in listed]


@pytest.mark.parametrize(
    "expression",
    [
        ".[].id",  # a field read per item
        ".[].toNumber",
        ".[].variables.NAME",  # nested, and null where a call has none
        '.[] | select(.status == "FAILED") | {id, failureReason}',  # in slices
        ".[] | .durationSeconds, .status",
        "map(.id) | add",  # the whole document
        "length",
        ".[0]",
        "[.[] | .status] | group_by(.) | map({(.[0]): length}) | add",
    ],
)
def test_jq_prints_what_jq_prints_over_the_json(cli: Cli, expression: str) -> None:
    document = ok(cli("calls", "list", "--all", "-o", "json"))
    assert ok(cli("calls", "list", "--all", "--jq", expression)) == jq_says(expression, document)


def test_a_list_longer_than_a_slice_streams_the_same(make_sandbox: Any) -> None:
    running = make_sandbox(calls=SLICE * 2 + 37, live_calls=False)
    cli = Cli(env={"ZAZA_BASE_URL": running.base_url, "ZAZA_API_KEY": running.api_key})
    document = ok(cli("calls", "list", "--all", "-o", "json"))
    for expression in (".[] | [.id, .status]", ".[].id", "[.[].id] | length"):
        shown = ok(cli("calls", "list", "--all", "--jq", expression))
        assert shown == jq_says(expression, document), expression
    assert ok(cli("calls", "list", "--all", "--jq", "length")) == f"{SLICE * 2 + 37}\n"


def test_jq_runs_per_item_on_jsonl(cli: Cli) -> None:
    lines = ok(cli("calls", "list", "--limit", "5", "--jsonl")).splitlines()
    shown = ok(cli("calls", "list", "--limit", "5", "--jsonl", "--jq", "{id} | .id"))
    assert shown.splitlines() == [str(json.loads(line)["id"]) for line in lines]
    # Per item: `length` is each call's number of fields, not the list's length.
    lengths = ok(cli("calls", "list", "--limit", "5", "-o", "jsonl", "--jq", "length"))
    assert lengths.splitlines() == [str(len(json.loads(line))) for line in lines]


def test_jq_reads_json_on_a_terminal_too(cli: Cli, sandbox: Any) -> None:
    shown = ok(cli("agents", "list", "--jq", ".[].name", ZAZA_FORCE_TTY="1"))
    assert shown.splitlines() == [agent["name"] for agent in api_get(sandbox, "agents")]
    assert "\x1b" not in shown  # no table, no colour


def test_fields_apply_before_jq(cli: Cli) -> None:
    shown = ok(cli("calls", "list", "--limit", "2", "--fields", "id,status", "--jq", ".[0] | keys"))
    assert shown == '["id","status"]\n'


# ---------------------------------------------------------------- documents


def test_show_with_a_template(cli: Cli) -> None:
    call = json.loads(ok(cli("calls", "show", "90494", "-o", "json")))
    template = "{{ id }}\\t{{ status }}\\t{{ failureReason or '' }}\\t{{ variables.NAME }}"
    shown = ok(cli("calls", "show", "90494", "--template", template))
    name = call.get("variables", {}).get("NAME", "")
    assert shown == f"{call['id']}\t{call['status']}\t{call['failureReason'] or ''}\t{name}\n"


def test_transcript_reads_its_json_turns(cli: Cli) -> None:
    turns = json.loads(ok(cli("calls", "transcript", "90494", "-o", "json")))
    shown = ok(cli("calls", "transcript", "90494", "--template", "{{ role }}: {{ text }}"))
    assert shown.splitlines() == [f"{t['role']}: {t['text']}" for t in turns]
    assert ok(cli("calls", "transcript", "90494", "--jq", "length")) == f"{len(turns)}\n"
    one_error_line(cli("calls", "transcript", "90494", "-o", "srt", "--jq", "."), 2)


def test_stats_with_jq(cli: Cli) -> None:
    report = json.loads(ok(cli("calls", "stats", "--since", "30d", "--json")))
    shown = ok(cli("calls", "stats", "--since", "30d", "--jq", ".total, .by, (.groups | length)"))
    assert shown == f"{report['total']}\nstatus\n{len(report['groups'])}\n"


def test_api_with_jq_and_paginate(cli: Cli, sandbox: Any) -> None:
    agents = api_get(sandbox, "agents")
    shown = ok(cli("api", "GET", "/agents", "--jq", ".[] | select(.isActive) | .name"))
    assert shown.splitlines() == [a["name"] for a in agents if a["isActive"]]
    ids = ok(cli("api", "GET", "calls", "-f", "size=50", "--paginate", "--jq", ".id"))
    assert len(ids.splitlines()) == 300
    templated = ok(cli("api", "agents/12", "--template", "{{ name }} ({{ language }})"))
    assert templated == "Zara from Acme (en-US)\n"


def test_a_template_renders_once_per_item_and_skips_empty_renderings(cli: Cli) -> None:
    listed = json.loads(ok(cli("calls", "list", "--all", "-o", "json")))
    failed = [call for call in listed if call["status"] == "FAILED"]
    template = '{% if status == "FAILED" %}{{ id }}:{{ failureReason }}{% endif %}'
    shown = ok(cli("calls", "list", "--all", "--template", template))
    assert shown.splitlines() == [f"{c['id']}:{c['failureReason'] or ''}" for c in failed]
    # A template that ends its own line gets no second newline; a missing name is empty.
    shown = ok(cli("calls", "list", "--limit", "2", "--template", "{{ id }}{{ nope.deeper }}\\n"))
    assert shown == "".join(f"{c['id']}\n" for c in listed[:2])


def test_template_helpers(cli: Cli) -> None:
    template = (
        "{{ duration(125) }}|{{ 3725 | duration }}|{{ e164('(415) 555-0123', 'US') }}|"
        "{{ e164(toNumber) }}|{{ e164('not a number') }}|{{ ago(createdAt) }}|{{ ago(none) }}"
    )
    call = json.loads(ok(cli("calls", "show", "90494", "-o", "json")))
    shown = ok(cli("calls", "show", "90494", "--template", template)).rstrip("\n")
    parts = shown.split("|")
    assert parts[:5] == ["2:05", "1:02:05", "+14155550123", call["toNumber"], "not a number"]
    assert re.fullmatch(r"\d+[smhd] ago", parts[5]), parts[5]
    assert parts[6] == ""


# ---------------------------------------------------------------- refusals and errors


@pytest.mark.parametrize("fmt", ["csv", "table", "plain"])
def test_refused_with_a_format_that_is_not_json(cli: Cli, fmt: str) -> None:
    line = one_error_line(cli("calls", "list", "-o", fmt, "--jq", ".[].id"), 2)
    assert f"--jq works on JSON output: it cannot be used with -o {fmt}" in line
    alias = one_error_line(cli("calls", "list", "--csv", "--template", "{{ id }}"), 2)
    assert "--template works on JSON output" in alias


def test_refused_together(cli: Cli) -> None:
    line = one_error_line(cli("calls", "list", "--jq", ".", "--template", "{{ id }}"), 2)
    assert line == "error: --jq and --template cannot be used together"


def test_a_jq_compile_error_is_a_usage_error_on_one_line(cli: Cli) -> None:
    line = one_error_line(cli("calls", "list", "--jq", ".[] | select(.id =="), 2)
    assert line.startswith("error: --jq: syntax error") and "line 1" in line
    line = one_error_line(cli("agents", "list", "--jq", "nosuchfunction"), 2)
    assert line == "error: --jq: nosuchfunction/0 is not defined at line 1, column 1"


def test_a_jq_runtime_error_is_exit_1_after_what_came_before(cli: Cli) -> None:
    result = cli("calls", "list", "--limit", "3", "--jq", ".[] | .id, (.id | .x)")
    line = one_error_line(result, 1)
    assert line == 'error: --jq: Cannot index number with string ("x")'
    assert len(result.stdout.splitlines()) == 1  # the first id, printed before the error


def test_a_template_syntax_error_is_a_usage_error(cli: Cli) -> None:
    line = one_error_line(cli("calls", "list", "--template", "{{ id "), 2)
    assert line.startswith("error: --template: ") and "(line 1)" in line


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ id.__class__.__bases__[0].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_a_template_cannot_reach_python(cli: Cli, template: str) -> None:
    result = cli("calls", "list", "--limit", "1", "--template", template)
    line = one_error_line(result, 1)
    assert line.startswith("error: --template: ") and "unsafe" in line, line
    assert result.stdout == ""


# ---------------------------------------------------------------- hostile data


@pytest.fixture
def hostile(fault_server: FaultServer) -> Cli:
    fault_server.set_handler(hostile_api)
    return Cli(env={"ZAZA_BASE_URL": fault_server.url, "ZAZA_API_KEY": KEY}, timing=no_waiting())


@pytest.mark.parametrize(
    "args",
    [
        ["calls", "list", "--jq", ".[].failureReason"],
        ["calls", "list", "--jq", ".[].toNumber"],
        ["calls", "list", "--jq", ".[]"],
        ["calls", "list", "--jq", ".[] | .disposition, .status"],
        ["calls", "list", "--jsonl", "--jq", ".variables"],
        ["calls", "list", "--template", "{{ id }}\\t{{ failureReason }}\\t{{ variables }}"],
        ["calls", "show", "90001", "--jq", ".turns[].text"],
        ["calls", "show", "90001", "--template", "{{ turns[1].text }}{{ recordingUrl }}"],
        ["agents", "list", "--jq", ".[] | .name, .greetingMessage, keys"],
        ["agents", "show", "1", "--template", "{{ name }} {{ personality | upper }}"],
        ["campaigns", "show", "7", "--jq", ".callingHours"],
        ["api", "agents", "--jq", ".[0].greetingMessage"],
        ["calls", "tail", "--since", "1h", "--duration", "0.1s", "--jq", ".call.status"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("tty", ["tty", "piped"])
def test_hostile_text_comes_out_inert(hostile: Cli, args: list[str], tty: str) -> None:
    env = {"ZAZA_FORCE_TTY": "1"} if tty == "tty" else {}
    shown = ok(hostile(*args, **env))
    assert shown.strip()
    assert_inert(shown, "stdout")
    assert "\x1b" not in shown  # not even colour: this is text for scripts


def test_hostile_text_is_visible_not_lost(hostile: Cli) -> None:
    shown = ok(hostile("calls", "list", "--jq", ".[0].failureReason"))
    assert shown == "\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07\n"
    templated = ok(hostile("calls", "list", "--limit", "1", "--template", "[{{ status }}]"))
    assert templated == "[VOICEMAIL\\x1b]0;pwned\\x07]\n"
    # A value on one line: the newline and tab of the data show, the template's are real.
    row = ok(hostile("calls", "show", "90002", "--template", "{{ id }}\\t{{ failureReason }}"))
    assert row.count("\n") == 1 and row.count("\t") == 1
    assert HOSTILE["newline and tab"].replace("\n", "\\n").replace("\t", "\\t") in row


# ---------------------------------------------------------------- streams


def test_tail_applies_jq_to_each_event(cli: Cli) -> None:
    lines = ok(cli("calls", "tail", "--last", "3", "--max-events", "3", "--jsonl")).splitlines()
    shown = ok(cli("calls", "tail", "--last", "3", "--max-events", "3", "--jq", ".call.id"))
    assert shown.splitlines() == [str(json.loads(line)["call"]["id"]) for line in lines]
    template = "{{ event }} {{ call.id }} {{ call.status }}"
    shown = ok(cli("calls", "tail", "--last", "3", "--max-events", "3", "--template", template))
    expected = [json.loads(line) for line in lines]
    assert shown.splitlines() == [
        f"{e['event']} {e['call']['id']} {e['call']['status']}" for e in expected
    ]


def post_event(url: str, event: str, **data: Any) -> None:
    import httpx

    raw = encode_body(event_body(event, {**sample_data(event), **data}))
    headers = webhook_headers(raw, event, secret=SECRET)
    with httpx.Client(trust_env=False) as client:
        assert client.post(url, content=raw, headers=headers, timeout=5).status_code == 200


def test_listen_applies_jq_to_each_event_and_goes_on_after_an_error() -> None:
    program = 'if .event == "call.started" then error("not this one") else .event end'
    env = {"ZAZA_WEBHOOK_SECRET": SECRET}
    with listen_process("--jq", program, env=env) as running:
        stdout = running.zaza.stdout
        assert stdout is not None
        post_event(running.url, "call.completed")
        assert stdout.until(lambda line: True, 10) == "call.completed\n"  # flushed at once
        post_event(running.url, "call.started")
        post_event(running.url, "call.failed", failureReason="\x1b]0;pwned\x07")
        stdout.until(lambda line: line == "call.failed\n", 10)
        out, err = running.stop(signal.SIGINT)
    assert running.proc.returncode == 0
    assert out == "call.completed\ncall.failed\n"
    assert "warning: --jq: not this one (event skipped)" in err


def test_listen_with_a_template() -> None:
    template = "{{ event }}\\t{{ signature }}\\t{{ body.data.failureReason }}"
    with listen_process("--template", template, env={"ZAZA_WEBHOOK_SECRET": SECRET}) as running:
        assert running.zaza.stdout is not None
        post_event(running.url, "call.failed", failureReason="\x1b]0;pwned\x07 busy")
        line = running.zaza.stdout.until(lambda line: True, 10)
        running.stop(signal.SIGINT)
    assert line == "call.failed\tvalid\t\\x1b]0;pwned\\x07 busy\n"
