"""`zaza version`: the same line as `zaza --version`."""

from __future__ import annotations

from zazacli.commands.app import single_command


def version() -> None:
    """Print zaza's version.

    \b
    Examples:
      zaza version
    """
    import sys

    from zazacli import __version__

    sys.stdout.write(f"zaza {__version__}\n")


app = single_command("version", version, no_args_is_help=False)
