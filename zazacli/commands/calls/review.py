"""`zaza calls review`: the archived transcripts checked against rules (offline); exit 18
when anything is found, so cron can tell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.api.filters import call_filter
from zazacli.commands.app import get_context
from zazacli.commands.calls.archive import ArchiveOpt, archive_path
from zazacli.commands.options import (
    AgentOpt,
    DirectionOpt,
    FormatOpt,
    JqOpt,
    SinceOpt,
    StatusOpt,
    TemplateOpt,
    UntilOpt,
)
from zazacli.commands.policy import DncOpt
from zazacli.commands.values import exclusive
from zazacli.errors import (
    EXIT_CODES,
    FINDINGS_EXIT,
    BlockedError,
    NotFoundError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.api.listing import CallFilter
    from zazacli.archive.review.evaluate import ReviewSummary
    from zazacli.archive.review.rules import Rule
    from zazacli.context import AppContext
    from zazacli.output import Format

RulesOpt = Annotated[
    str | None,
    typer.Option(
        "--rules",
        metavar="FILE",
        help="A TOML file of rules (docs/review.md) [default: the built-in rules, "
        "recording-disclosure and opt-out-honoured].",
        show_default=False,
    ),
]
ShowDefaultRulesOpt = Annotated[
    bool,
    typer.Option(
        "--show-default-rules",
        help="Print the built-in rules as a rules file (TOML) to start from, and exit.",
    ),
]
SyncFirstOpt = Annotated[
    bool,
    typer.Option("--sync", help="Sync the archive first (zaza calls sync, these filters)."),
]
ApplyOpt = Annotated[
    bool,
    typer.Option(
        "--apply",
        help="Put the number of every caller who asked not to be called again on the "
        "do-not-call list (source transcript; the call id as reason).",
    ),
]

REVIEW_EPILOG = exit_codes_help(
    {
        0: "no finding",
        1: EXIT_CODES[1],
        UsageError.exit_code: "bad option, or a rules file that cannot be used (its line named)",
        NotFoundError.exit_code: "no archive yet (zaza calls sync)",
        BlockedError.exit_code: "--apply: the do-not-call list cannot be written",
        FINDINGS_EXIT: "at least one finding",
    }
)


def review(
    ctx: typer.Context,
    rules: RulesOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    agent: AgentOpt = None,
    status: StatusOpt = None,
    direction: DirectionOpt = None,
    fmt: FormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
    sync_first: SyncFirstOpt = False,
    apply: ApplyOpt = False,
    dnc: DncOpt = None,
    archive_file: ArchiveOpt = None,
    show_default_rules: ShowDefaultRulesOpt = False,
) -> None:
    """Check the archived transcripts against rules: one finding per rule a call breaks.

    Each finding is a row: the call, its time, the agent, the rule, the turn (its index
    in the transcript), who spoke, and an excerpt with the match highlighted (marked
    **like this** when not on a terminal). A summary goes to stderr. Without --rules: was
    the recording disclosed (the agent's first two turns), and did a caller who asked not
    to be called again hear at most one more turn. Phrases match whole words, whatever the
    case, accents and punctuation. Works offline, on what `zaza calls sync` archived
    (--sync syncs first). Exit 0 when nothing is found, 18 when anything is.

    \b
    Examples:
      zaza calls review --since 1d
      zaza calls review --rules review.toml --agent 12 -o csv > findings.csv
      zaza calls review --sync --since 1d || echo "the review found something"
      zaza calls review --since 7d --apply
      zaza calls review --show-default-rules > review.toml
    """
    app_ctx = get_context(ctx)
    out = app_ctx.out
    if show_default_rules:
        _show_default_rules(app_ctx, rules, fmt or jq or template)
        return
    chosen = out.view(fmt, jq=jq, template=template).format
    filters = call_filter(direction, status, agent, since, until, out.notice)
    checked = _read_rules(rules)
    path = archive_path(app_ctx, archive_file, syncing=sync_first)
    if sync_first:
        from zazacli.commands.calls.sync import mirror_all

        mirror_all(app_ctx, path, filters._replace(until=None))
    summary = _review(app_ctx, path, checked, filters, chosen, apply=apply, dnc=dnc)
    _after(app_ctx, summary, apply, dnc)
    if summary.total:
        raise typer.Exit(FINDINGS_EXIT)


def _review(
    app_ctx: AppContext,
    path: Path,
    rules: tuple[Rule, ...],
    filters: CallFilter,
    chosen: Format,
    *,
    apply: bool,
    dnc: str | None,
) -> ReviewSummary:
    """The findings printed as they are found (through the pager on a terminal); with
    --apply, the do-not-call list is opened first: one that cannot be used stops the
    command before it prints findings it cannot act on."""
    from zazacli.archive.local import opened
    from zazacli.archive.review.evaluate import Review
    from zazacli.commands.policy import open_store
    from zazacli.output.review import review_findings

    out = app_ctx.out
    with opened(path, out.warn) as archive:
        if apply:
            with open_store(app_ctx, dnc, dialling=False):
                pass
        run = Review(archive, rules, filters)
        with out.paged():
            review_findings(out, run.findings(), chosen)
    return run.summary


def _show_default_rules(app_ctx: AppContext, rules: str | None, fmt: str | None) -> None:
    from zazacli.archive.review.rules import DEFAULT_RULES, rules_toml

    exclusive(show_default_rules=True, rules=rules is not None)
    if fmt is not None:
        raise UsageError("--show-default-rules prints TOML; leave out --format, --jq, --template")
    app_ctx.out.stdout.write(rules_toml(DEFAULT_RULES))


def _read_rules(given: str | None) -> tuple[Rule, ...]:
    """The rules of --rules FILE, or the built-in ones."""
    from zazacli.archive.review.rules import DEFAULT_RULES, parse_rules

    if given is None:
        return DEFAULT_RULES
    from pathlib import Path

    path = Path(given).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{given}: no such rules file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{given} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {given}: {exc.strerror or exc}") from None
    return parse_rules(text, given)


def _after(app_ctx: AppContext, summary: ReviewSummary, apply: bool, dnc: str | None) -> None:
    """The summary; then the callers who asked not to be called again: put on the
    do-not-call list with --apply (each said as it is), counted without. A number that
    cannot be put on it is an error with --apply: the list refuses nothing silently."""
    from zazacli.archive.review.evaluate import opt_out_numbers
    from zazacli.commands.policy import open_store
    from zazacli.output.review import (
        opt_out_added,
        opt_out_unknown_number,
        opt_outs_pending,
        review_summary,
    )

    out = app_ctx.out
    review_summary(out, summary)
    numbers, unusable = opt_out_numbers(summary.opt_outs)
    for opt_out in unusable:
        opt_out_unknown_number(out, opt_out)
    if not apply:
        if numbers:
            opt_outs_pending(out, len(numbers), _already_listed(app_ctx, dnc, list(numbers)))
        return
    with open_store(app_ctx, dnc, dialling=False) as store:
        for number, opt_out in numbers.items():
            added = store.add([number], "transcript", f"call {opt_out.call_id}")
            opt_out_added(out, number, opt_out, bool(added))
    if unusable:
        raise ZazaError(
            f"{len(unusable)} caller{'s' if len(unusable) != 1 else ''} who asked not to be "
            "called again could not be put on the do-not-call list (see the warnings above)",
            hint="add their numbers yourself: zaza dnc add NUMBER --reason ...",
        )


def _already_listed(app_ctx: AppContext, dnc: str | None, numbers: list[str]) -> int | None:
    """How many of `numbers` the do-not-call list holds, when it can be read; a review
    without --apply needs no list (nor a key): None when there is none to read."""
    from zazacli.commands.policy import policy_path
    from zazacli.policy.store import PolicyStore

    try:
        path = policy_path(app_ctx, dnc)[0]
        if not path.exists():
            return 0
        with PolicyStore.open(path, create=False, readonly=True) as store:
            return len(store.lookup_many(numbers))
    except ZazaError:
        return None
