"""`zaza dnc`: the contact policy — the do-not-call list, the frequency cap and the dial
ledger every dispatch and batch goes through.

The noun and its verbs, one module each, registered here in help order; `zaza dnc` alone
runs the callback (summary.py), which prints the summary.
"""

from __future__ import annotations

from zazacli.commands.app import noun_app
from zazacli.commands.dnc import add, check, export, import_, import_events, remove, summary
from zazacli.commands.dnc import list as list_
from zazacli.errors import (
    BlockedError,
    InvalidRowsError,
    UsageError,
    ZazaError,
    exit_codes_help,
)

app = noun_app(
    "dnc",
    no_args_is_help=False,
    invoke_without_command=True,
    epilog=exit_codes_help(
        {
            0: "ok (check: every number may be called)",
            ZazaError.exit_code: "runtime error",
            UsageError.exit_code: "usage error or bad input (nothing changed)",
            InvalidRowsError.exit_code: "import: some lines were not numbers (listed by line; "
            "the others were imported)",
            BlockedError.exit_code: "check: a number may not be called (or the list cannot "
            "be read)",
        }
    ),
)
app.callback()(summary.summary)
app.command("add")(add.add)
app.command("remove")(remove.remove)
app.command("list")(list_.list_entries)
app.command("export")(export.export)
app.command("import")(import_.import_file)
app.command("import-events")(import_events.import_events)
app.command("check")(check.check)
