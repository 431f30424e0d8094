"""Global options anywhere on the line: `zaza calls search refund --no-pager` and `zaza agents
show 12 --debug` mean what `zaza --no-pager calls search refund` means, as in kubectl and
the Stripe CLI. Before the root parses, the global options found after the command are
moved in front of it; an option the command declares itself stays its own (`calls wait
--timeout 5m` is the wait's, not the read timeout). Each command's help lists them under
"Global options"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# Root options that are not global settings: answered at once, or only at the root.
ROOT_ONLY = frozenset(
    {"--help", "-h", "--version", "-V", "--install-completion", "--show-completion"}
)


def option_table(params: Iterable[Any]) -> dict[str, bool]:
    """Each option name of `params` (both `--x` and `-x`, and `--no-x` of a pair) -> whether
    it takes a value."""
    table: dict[str, bool] = {}
    for param in params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
        for name in (*param.opts, *param.secondary_opts):
            table[name] = takes
    return table


def _name(token: str) -> tuple[str, bool]:
    """The option a token names, and whether its value is attached (`--timeout=5`, `-pdev`)."""
    if token.startswith("--"):
        name, eq, _ = token.partition("=")
        return name, bool(eq)
    if token.startswith("-") and len(token) > 2:
        return token[:2], True
    return token, False


def hoist(
    args: list[str], roots: dict[str, bool], find_leaf: Callable[[list[str]], Any]
) -> list[str]:
    """`args` with the global options (`roots`, minus ROOT_ONLY) given after the command
    words moved before them. `find_leaf(words)` is the command the words name (None while
    they name a group, or nothing): its own options are never moved. Nothing after `--`
    is touched."""
    globals_ = {name: takes for name, takes in roots.items() if name not in ROOT_ONLY}
    front, index = _leading(args, roots)
    words: list[str] = []
    own: dict[str, bool] | None = None  # the leaf's options, once the words name it
    hoisted: list[str] = []
    rest: list[str] = []
    while index < len(args):
        token = args[index]
        if token == "--":
            rest += args[index:]
            break
        name, attached = _name(token)
        mine = own or {}
        width = 2 if not attached and (mine.get(name) or globals_.get(name)) else 1
        if token.startswith("-") and name not in mine and name in globals_:
            hoisted += args[index : index + width]
        else:
            rest += args[index : index + width]
            if own is None and not token.startswith("-"):
                words.append(token)
                leaf = find_leaf(words)
                own = None if leaf is None else option_table(getattr(leaf, "params", ()))
        index += width
    return front + hoisted + rest


def _leading(args: list[str], roots: dict[str, bool]) -> tuple[list[str], int]:
    """The root options before the first command word, and where that word is."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        name, attached = _name(args[index])
        index += 2 if roots.get(name) and not attached else 1
    return args[:index], index
