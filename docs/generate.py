"""Regenerate docs/commands.md, the command reference, from the real command tree.

    python docs/generate.py            rewrite docs/commands.md
    python docs/generate.py --check    exit 1 when docs/commands.md is stale

Everything comes from the live Typer tree (help texts, usage, arguments, options), so a
changed command only needs this script run again; tests/test_docs.py fails while the
committed copy is stale. Nothing depends on the terminal: no width, no colour.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "commands.md"
PROG = "zaza"
REGENERATE = "python docs/generate.py"


@dataclass
class Entry:
    """One visible command path, with the context Typer renders its help in."""

    path: list[str]
    command: Any
    ctx: Any


def walk() -> list[Entry]:
    """Every visible command, parents before children, in the order `--help` lists them.

    Nouns load lazily, so each group is asked for its names and then for each command.
    """
    import typer
    import typer.main

    from zazacli.main import app

    entries: list[Entry] = []

    def visit(command: Any, path: list[str], parent: Any) -> None:
        ctx = typer.Context(command, info_name=path[-1], parent=parent, **command.context_settings)
        entries.append(Entry(path, command, ctx))
        names = command.list_commands(ctx) if hasattr(command, "list_commands") else []
        for name in names:
            child = command.get_command(ctx, name)
            if child is not None and not child.hidden:
                visit(child, [*path, name], ctx)

    visit(typer.main.get_command(app), [PROG], None)
    return entries


# ------------------------------------------------------------------------------ text


def escape(text: str) -> str:
    """Help text as Markdown prose: `code spans` kept; `*`, `\\` and a `<` that would open an
    HTML tag (`<call id>`) escaped."""
    parts = re.split(r"(`[^`]*`)", text)
    for index in range(0, len(parts), 2):
        parts[index] = re.sub(r"([\\*]|<(?=[A-Za-z/!?]))", r"\\\1", parts[index])
    return "".join(parts)


def prose(text: str | None) -> list[str]:
    """Click's help format as Markdown: paragraphs joined into one line each; a paragraph
    after a `\\b` line is preformatted and becomes a text block; `\\f` ends the help."""
    if not text:
        return []
    text = inspect.cleandoc(text.split("\f", 1)[0])
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.startswith("\b"):
            body = paragraph.split("\n", 1)[1] if "\n" in paragraph else ""
            lines += ["```text", *body.rstrip().splitlines(), "```", ""]
        elif paragraph.strip():
            lines += [escape(" ".join(line.strip() for line in paragraph.splitlines())), ""]
    return lines


def summary(command: Any) -> str:
    """The first paragraph of a command's help, on one line."""
    found = prose(command.help)
    return found[0] if found and not found[0].startswith("```") else ""


def anchor(path: list[str]) -> str:
    """GitHub's anchor for the heading `` `zaza calls list` ``."""
    return "-".join(path).lower()


def display(record: str) -> str:
    """`-L, --limit <int range>` and its help as one Markdown bullet's parts."""
    return re.sub(r"\s{2,}", " ", record).strip()


# --------------------------------------------------------------------------- sections


def parameters(entry: Entry, kind: str) -> list[tuple[str, str]]:
    """(name, help) of the visible arguments or options, as `--help` shows them."""
    help_names = set(entry.ctx.help_option_names)
    found = []
    for param in entry.command.get_params(entry.ctx):
        if param.param_type_name != kind or getattr(param, "hidden", False):
            continue
        if kind == "option" and help_names & {*param.opts, *param.secondary_opts}:
            continue
        record = param.get_help_record(entry.ctx)
        if record is not None:
            found.append((display(record[0]), display(record[1])))
    return found


def bullets(title: str, items: list[tuple[str, str]]) -> list[str]:
    if not items:
        return []
    lines = [f"{title}:", ""]
    for name, text in items:
        lines.append(f"- `{name}`" + (f": {escape(text)}" if text else ""))
    return [*lines, ""]


def section(entry: Entry, children: list[Entry]) -> list[str]:
    depth = max(len(entry.path) - 1, 1)
    title = " ".join(entry.path)
    usage = " ".join([title, *entry.command.collect_usage_pieces(entry.ctx)])
    lines = [f"{'#' * (depth + 1)} `{title}`", "", f"Usage: `{usage}`", ""]
    lines += prose(entry.command.help)
    if children:
        lines += ["Commands:", ""]
        for child in children:
            name = " ".join(child.path)
            text = summary(child.command)
            lines.append(f"- [`{name}`](#{anchor(child.path)})" + (f": {text}" if text else ""))
        lines.append("")
    lines += bullets("Arguments", parameters(entry, "argument"))
    lines += bullets("Options", parameters(entry, "option"))
    parent = entry.ctx.parent
    if parent is None or entry.command.epilog != parent.command.epilog:
        lines += prose(entry.command.epilog)  # a group repeats the root's exit codes
    return lines


def render() -> str:
    entries = walk()
    lines = [
        "# Command reference",
        "",
        f"<!-- Generated from the command tree; do not edit: run `{REGENERATE}`. -->",
        "",
        f"Every `{PROG}` command with its options, as `{PROG} COMMAND --help` prints them",
        "(`-h` works too). The manual by task is in the [README](../README.md) and the other",
        "files of [docs/](.); global options go before the command:",
        f"`{PROG} --profile staging calls list`.",
        "",
    ]
    lines.append(f"- [`{PROG}`](#{PROG}): global options")
    for entry in entries[1:]:
        indent = "  " * (len(entry.path) - 2)
        lines.append(f"{indent}- [`{' '.join(entry.path)}`](#{anchor(entry.path)})")
    lines.append("")
    for entry in entries:
        children = [child for child in entries if child.path[:-1] == entry.path]
        lines += section(entry, children)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if commands.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"stale: docs/commands.md (run: {REGENERATE})")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
