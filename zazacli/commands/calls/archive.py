"""`zaza calls archive`: where the local archive is and what it holds; `--prune`. Also the
`--archive` option and the choice of the archive file, shared with `sync` and `search`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from zazacli.context import AppContext

ArchiveOpt = Annotated[
    str | None,
    typer.Option(
        "--archive",
        envvar="ZAZA_ARCHIVE",
        help="The archive file [default: one per API and key, in your user data directory].",
        show_default=False,
    ),
]
IncludeDeletedOpt = Annotated[
    bool,
    typer.Option(
        "--include-deleted",
        help="With --local (search: always offline): also the calls the API no longer lists "
        "(found by calls sync --refresh).",
    ),
]
PruneOpt = Annotated[
    bool, typer.Option("--prune", help="Remove the calls created before --before WHEN.")
]
BeforeOpt = Annotated[
    str | None,
    typer.Option(
        "--before", help="With --prune: ISO date or instant, or 30d, 1w …", show_default=False
    ),
]


def only_local(**given: bool) -> None:
    """Options that read the archive only: a usage error without --local."""
    for name, present in given.items():
        if present:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"{option} needs --local", hint="add --local to read the archive")


def archive_path(app_ctx: AppContext, given: str | None, *, syncing: bool = False) -> Path:
    """--archive or ZAZA_ARCHIVE, else the archive of the configured API and key (reading
    the settings only: no network)."""
    from pathlib import Path

    if given:
        return Path(given).expanduser()
    if app_ctx.options.sandbox:
        # A private sandbox lives for one command, and so does its archive: a sync can fill
        # one, but no later command can read it.
        if not syncing:
            raise UsageError(
                "--sandbox starts a new private sandbox for each command, so it has no "
                "archive to read",
                hint="start one that stays (zaza sandbox, in a second terminal), then "
                "zaza calls sync and search against it; or pass --archive PATH",
            )
        return app_ctx.scratch_dir() / "archive.sqlite3"
    from zazacli.archive.paths import default_archive, known_archives

    settings = app_ctx.settings
    if settings.api_key:
        return default_archive(settings.base_url, settings.api_key)
    found = [str(path) for path in known_archives()[:3]]
    raise UsageError(
        "which archive? there is one per API and key, and no API key is configured",
        hint="pass --archive PATH or set ZAZA_ARCHIVE"
        + (f"; archives here: {', '.join(found)}" if found else ""),
    )


def archive(
    ctx: typer.Context,
    archive_file: ArchiveOpt = None,
    prune: PruneOpt = False,
    before: BeforeOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Where the local call archive is, its size, its calls and transcripts, oldest and
    newest call, and the last sync. Works offline.

    --prune --before WHEN removes older calls and their transcripts; later syncs do not
    fetch them again (a sync with an earlier --since does).

    \b
    Examples:
      zaza calls archive
      zaza calls archive --prune --before 90d
    """
    from zazacli.archive.store import Archive, archive_errors
    from zazacli.output.archive import archive_status, pruned

    if prune != (before is not None):
        raise UsageError("--prune and --before go together: --prune --before WHEN")
    app_ctx = get_context(ctx)
    out = app_ctx.out
    chosen = out.view(fmt, jq=jq, template=template).format
    path = archive_path(app_ctx, archive_file)
    cutoff = _cutoff(before) if before is not None else None
    if cutoff is None and not path.exists():
        archive_status(out, None, str(path), chosen)
        return
    with archive_errors(path):
        store = Archive.open(path, create=False, warn=app_ctx.out.warn)
        try:
            if cutoff is not None:
                pruned(out, store.prune(cutoff[0]), cutoff[1])
            archive_status(out, store.status(), str(path), chosen)
        finally:
            store.close()


def _cutoff(before: str) -> tuple[str, str]:
    """(created_key, instant) of --before."""
    from zazacli.api.listing import created_key
    from zazacli.times import parse_when

    when = parse_when(before, "--before")
    return created_key(when) or when, when
