"""`zaza webhooks`: receive, check, trigger, replay and verify ZazaVoice webhook events locally.

The noun and its verbs, one module each, registered here in help order.
"""

from __future__ import annotations

from zazacli.commands.app import noun_app
from zazacli.commands.webhooks import events, listen, replay, trigger, verify
from zazacli.errors import NetworkError, UsageError, ZazaError, exit_codes_help

app = noun_app(
    "webhooks",
    epilog=exit_codes_help(
        {
            0: "ok",
            ZazaError.exit_code: "runtime error, a target that answered non-2xx, or (verify) "
            "a signature that does NOT match",
            UsageError.exit_code: "usage error or bad input",
            NetworkError.exit_code: "target unreachable or timed out",
        }
    ),
)
app.command("listen")(listen.listen)
app.command("events")(events.list_events)
app.command("trigger")(trigger.trigger)
app.command("replay")(replay.replay)
app.command("verify")(verify.verify)
