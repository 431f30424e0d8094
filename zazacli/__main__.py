"""The `zaza` script and `python -m zazacli`.

`--version` is answered before Typer is imported: it is the cheapest way a script
checks that zaza is installed, and Typer alone costs several times Python's start-up.
"""

import sys

from zazacli import __version__


def run() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"zaza {__version__}\n")
        return
    from zazacli.main import main

    main()


if __name__ == "__main__":
    run()
