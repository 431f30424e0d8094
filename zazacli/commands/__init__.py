"""The CLI layer: one module (or package) per noun, each registering its own verbs.

`NOUNS` is the one list of nouns and their descriptions. `zaza --help` prints it without
importing any noun, and each noun's app takes its help from it, so the two cannot drift.
A noun's module is imported only when that noun runs, and exposes `app` (a Typer app).

Adding a noun: a module here exposing `app` (built with `options.noun_app` or
`options.single_command`), a line in NOUNS, an example in README.md or docs/, then
`python docs/generate.py` and `python completions/generate.py`.
"""

from __future__ import annotations


class Noun:
    """A noun's module (imported when it runs) and its one description."""

    __slots__ = ("help", "module")

    def __init__(self, module: str, help: str) -> None:
        self.module = module
        self.help = help


NOUNS: dict[str, Noun] = {
    "calls": Noun(
        "zazacli.commands.calls", "Call history, transcripts, dispatch, batch, stats, tail."
    ),
    "agents": Noun(
        "zazacli.commands.agents", "Voice agents (read-only; edit them in the dashboard)."
    ),
    "campaigns": Noun("zazacli.commands.campaigns", "Campaigns and lead progress (read-only)."),
    "profiles": Noun(
        "zazacli.commands.profiles", "API keys and settings per environment (prod, staging, …)."
    ),
    "dnc": Noun(
        "zazacli.commands.dnc",
        "The contact policy: do-not-call list, frequency cap, dial ledger.",
    ),
    "webhooks": Noun(
        "zazacli.commands.webhooks", "Receive, check, trigger, replay and verify webhook events."
    ),
    "api": Noun(
        "zazacli.commands.api", "Call any /v1 endpoint with your profile's auth (like gh api)."
    ),
    "doctor": Noun(
        "zazacli.commands.doctor", "Check the configured API against every assumption zaza makes."
    ),
    "capabilities": Noun(
        "zazacli.commands.capabilities", "What the API can do, and what is dashboard-only."
    ),
    "sandbox": Noun("zazacli.commands.sandbox", "Run a local ZazaVoice-compatible API server."),
    "ui": Noun("zazacli.commands.ui", "A full-screen app: live calls, transcripts, search."),
    "mcp": Noun(
        "zazacli.commands.mcp", "Serve calls and transcripts to AI assistants (MCP, stdio)."
    ),
    "help": Noun(
        "zazacli.commands.help", "Show the help of zaza or of a command (zaza help calls list)."
    ),
    "version": Noun("zazacli.commands.version", "Print zaza's version."),
}
