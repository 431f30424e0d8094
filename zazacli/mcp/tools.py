"""The read tools of `zaza mcp`: plain functions of the arguments and the Backing (what
the command built from its context), returning what `-o json` of the same command prints,
wrapped in a Result. Each reuses the code the command runs: the API client, the filters
(api/filters.py), the archive (search, local listing and stats, review), the contact
policy. No printing, no protocol: server.py turns a Result into a tool result."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zazacli.errors import UsageError
from zazacli.mcp.args import Args

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.api.client import ZazaApi
    from zazacli.api.listing import CallFilter
    from zazacli.archive.store import Archive
    from zazacli.calls.admission import Dialling
    from zazacli.calls.stats import Rates
    from zazacli.policy.rules import Verdict

REVIEW_DEFAULT = 100


@dataclass
class Backing:
    """What the tools read and dial with, made by commands/mcp.py from its context: the API
    client (None with --local: nothing leaves the machine), the archive file (or why there
    is none), the contact policy's verdicts, the region national numbers are read in, the
    rates costs are estimated at, and dialling (None without --allow-dispatch)."""

    api: Callable[[], ZazaApi] | None
    archive: Callable[[], Path]
    verdicts: Callable[[list[str]], dict[str, list[Verdict]]]
    rates: Rates
    region: str | None = None
    dialling: Callable[[], Dialling] | None = None
    max_dispatches: int = 10
    dispatched: int = 0  # dispatches that went to the POST in this server run
    notes: list[str] = field(default_factory=list)  # what the filters and checks said

    @property
    def local(self) -> bool:
        return self.api is None

    def connect(self) -> ZazaApi:
        if self.api is None:
            raise UsageError("this tool reads the API, and zaza mcp runs with --local")
        return self.api()

    @contextlib.contextmanager
    def opened(self) -> Iterator[Archive]:
        """The archive, open for one tool call (a connection is not shared between the
        server's worker threads); none yet: exit 3 with the hint to sync."""
        from zazacli.archive.local import opened

        with opened(self.archive(), self.notes.append) as store:
            yield store


@dataclass
class Result:
    """A tool's answer: `data` is what came from outside (the API, the archive: callers'
    and agents' words among it), `about` says what it is; `extra` are zaza's own fields."""

    about: str
    data: Any
    extra: dict[str, Any] = field(default_factory=dict)


def call_filter_of(args: Args, backing: Backing) -> CallFilter:
    """The CLI's filters (status, direction, agent: lists or commas; since, until: ISO or
    1d, 2w ...), read by the one parser every face uses."""
    from zazacli.api.filters import call_filter

    return call_filter(
        args.values("direction"),
        args.values("status"),
        args.values("agent"),
        args.text("since"),
        args.text("until"),
        backing.notes.append,
    )


def listed(items: Iterator[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """At most `limit` items, and whether there were more (one more is read to know)."""
    taken: list[dict[str, Any]] = []
    for item in items:
        if len(taken) == limit:
            return taken, True
        taken.append(item)
    return taken, False


def list_calls(args: Args, backing: Backing) -> Result:
    filters = call_filter_of(args, backing)
    limit = args.limit()
    if backing.local:
        from zazacli.archive.local import archived_calls

        with backing.opened() as store:
            calls, more = listed(archived_calls(store, filters, limit + 1), limit)
    else:
        calls, more = listed(backing.connect().iter_calls(filters, limit=limit + 1), limit)
    about = f"{len(calls)} calls, newest first" + (
        " (more match: raise limit, up to 500)" if more else ""
    )
    return Result(about, calls, {"count": len(calls), "more": more})


def _call(args: Args, backing: Backing) -> dict[str, Any]:
    call_id = args.required_id("id")
    if not backing.local:
        return backing.connect().get_call(call_id)
    from zazacli.archive.local import archived_call

    with backing.opened() as store:
        call, deleted_at = archived_call(store, call_id)
    if deleted_at is not None:
        backing.notes.append(f"call {call_id} is no longer listed by the API (archive's copy)")
    return call


def get_call(args: Args, backing: Backing) -> Result:
    call = _call(args, backing)
    return Result(f"call {call.get('id')} with its transcript (turns)", call)


def get_transcript(args: Args, backing: Backing) -> Result:
    from zazacli.calls.transcript import no_transcript_note, transcript_turns

    call = _call(args, backing)
    turns = transcript_turns(call)
    if not turns:
        backing.notes.append(no_transcript_note(call))
    about = f"the transcript of call {call.get('id')}: {len(turns)} turns"
    return Result(about, turns, {"callId": call.get("id"), "count": len(turns)})


def search_transcripts(args: Args, backing: Backing) -> Result:
    from zazacli.api.filters import pick_choice
    from zazacli.archive.search import search

    query = args.required_text("query")
    filters = call_filter_of(args, backing)
    role = pick_choice(args.text("role"), ("AGENT", "CALLER"), "role")
    limit = args.limit()
    with backing.opened() as store:
        found = search(store, query, filters, role=role, limit=limit + 1)
        hits, more = listed((hit.as_dict() for hit in found.hits), limit)
    if found.ranked is not None:
        backing.notes.append(f"more than {found.ranked:,} turns match: the newest were ranked")
    about = f"{len(hits)} matching turns, best first; snippets mark matches **like this**"
    return Result(about, hits, {"count": len(hits), "more": more})


def call_stats(args: Args, backing: Backing) -> Result:
    from zazacli.calls.stats import api_stats, pick_grouping

    grouping = pick_grouping(args.text("by") or "status")
    filters = call_filter_of(args, backing)
    if backing.local:
        from zazacli.archive.local import local_stats

        with backing.opened() as store:
            report = local_stats(store, grouping, filters, backing.rates)
    else:
        warn = backing.notes.append
        report = api_stats(backing.connect(), grouping, filters, backing.rates, warn=warn)
    return Result(f"calls stats by {grouping}, as `zaza calls stats --json`", report)


def review_calls(args: Args, backing: Backing) -> Result:
    from zazacli.archive.review.evaluate import Review
    from zazacli.archive.review.rules import DEFAULT_RULES

    filters = call_filter_of(args, backing)
    limit = args.limit(REVIEW_DEFAULT)
    with backing.opened() as store:
        run = Review(store, DEFAULT_RULES, filters)
        findings, more = listed((finding.as_dict() for finding in run.findings()), limit)
    summary = run.summary
    extra = {
        "count": len(findings),
        "more": more,
        "rules": list(summary.rules),
        "reviewedCalls": summary.calls if not more else None,
        "findingsByRule": summary.findings if not more else None,
    }
    about = f"{len(findings)} findings of the built-in review rules (zaza calls review)"
    return Result(about, findings, extra)


def list_agents(args: Args, backing: Backing) -> Result:
    agents = backing.connect().list_agents()
    return Result(f"{len(agents)} voice agents", agents, {"count": len(agents)})


def get_agent(args: Args, backing: Backing) -> Result:
    agent_id = args.required_id("id")
    return Result(f"agent {agent_id}", backing.connect().get_agent(agent_id))


def list_campaigns(args: Args, backing: Backing) -> Result:
    campaigns = backing.connect().list_campaigns()
    return Result(f"{len(campaigns)} campaigns", campaigns, {"count": len(campaigns)})


def get_campaign(args: Args, backing: Backing) -> Result:
    campaign_id = args.required_id("id")
    return Result(f"campaign {campaign_id}", backing.connect().get_campaign(campaign_id))


def check_number(args: Args, backing: Backing) -> Result:
    """As `zaza dnc check NUMBER --json`: the list and the ledger only (no network)."""
    from zazacli.policy.lists import e164

    raw = args.required_text("number")
    number = e164(raw, backing.region, "number")
    found = backing.verdicts([number])[number]
    verdict = {
        "number": number,
        "allowed": all(v.allowed for v in found),
        "verdicts": [v.as_dict() for v in found],
    }
    said = "may be called" if verdict["allowed"] else "may NOT be called"
    return Result(
        f"{number} {said} by the contact policy (quiet hours: see dispatch_call)", verdict
    )
