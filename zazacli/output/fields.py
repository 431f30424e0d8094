"""`--fields a,b,c`: which fields of a call, agent or campaign are printed, in that order.

Names are the API's own, as `--json` and `--csv` write them (`toNumber`, `createdAt`);
`NAME.KEY` is one key of an object (`variables.NAME`, `callingHours.start`). A name is
valid when zaza knows it for the noun (the fields of its list, `show` and CSV layouts), or
when the API sends it: names zaza does not know are checked against the first object the
API returns, before anything is printed, so a field the API adds later can be chosen
without a new zaza.

For a table, plain lines and CSV the fields are the columns; for JSON the keys (a field
the object lacks is null, so every object has the same keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

from zazacli.errors import UsageError
from zazacli.output.columns import LAYOUTS, Column, Layout, header


def known_fields(kind: str) -> list[str]:
    """The fields zaza knows for a kind, in the order of its layouts (`NAME.*`, the keys of
    an object, as NAME)."""
    layout = LAYOUTS[kind]
    names = [column.key for column in (*layout.columns, *layout.detail)]
    names += [name.removesuffix(".*") for name in layout.csv]
    parents = [name.split(".", 1)[0] for name in names if "." in name]
    return list(dict.fromkeys([*names, *parents]))


def parse_fields(text: str, kind: str) -> Fields:
    """`--fields` as given: comma-separated, blanks ignored, each name once."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise UsageError("--fields: no field named", hint=_valid_hint(kind, {}))
    return Fields(kind, names)


@dataclass(frozen=True)
class Fields:
    """The fields chosen for one kind of object (`call`, `agent`, `campaign`)."""

    kind: str
    names: tuple[str, ...]

    def check(self, item: dict[str, Any]) -> None:
        """A usage error naming the valid fields when a name is neither known nor sent."""
        known = set(known_fields(self.kind))
        families = {name[:-2] for name in LAYOUTS[self.kind].csv if name.endswith(".*")}
        for name in self.names:
            head, dot, _ = name.partition(".")
            known_to_zaza = name in known or bool(dot and head in families)
            # Sent by the API: a field of `item`, or any key of an object it has.
            sent = isinstance(item.get(head), dict) if dot else name in item
            if known_to_zaza or sent:
                continue
            raise UsageError(
                f"--fields: {self.kind}s have no field {name!r}", hint=_valid_hint(self.kind, item)
            )

    def apply(self, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The items with only these fields, the first checked before any is yielded (a
        list format may write its opening before it reads an item)."""
        iterator = iter(items)
        first = next(iterator, None)
        if first is None:
            return iter(())
        self.check(first)
        return map(self.project, chain([first], iterator))

    def project(self, item: dict[str, Any]) -> dict[str, Any]:
        """These fields of `item`, in this order; `NAME.KEY` inside its object."""
        picked: dict[str, Any] = {}
        whole: set[str] = set()
        for name in self.names:
            head, dot, key = name.partition(".")
            if not dot:
                picked[name] = item.get(name)
                whole.add(name)
            elif head not in whole:
                parent = item.get(head)
                value = parent.get(key) if isinstance(parent, dict) else None
                picked.setdefault(head, {})[key] = value
        return picked

    def layout_kind(self) -> str:
        """The name of a layout of only these fields, registered beside the noun's own: the
        formats find their columns by name."""
        name = f"{self.kind}:{','.join(self.names)}"
        if name not in LAYOUTS:
            columns = self.columns()
            LAYOUTS[name] = Layout(columns=columns, detail=columns, csv=self._csv())
        return name

    def columns(self) -> list[Column]:
        """The noun's own column where it has one (its header, its kind of value), kept
        whatever the terminal's width: these columns were asked for."""
        layout = LAYOUTS[self.kind]
        own = {column.key: column for column in (*layout.detail, *layout.columns)}
        return [
            replace(own[name], priority=1) if name in own else Column(header(name), name)
            for name in self.names
        ]

    def _csv(self) -> list[str]:
        """CSV columns: an object's keys as dotted columns, like the noun's own CSV."""
        known = LAYOUTS[self.kind].csv
        columns: list[str] = []
        for name in self.names:
            children = [field for field in known if field.startswith(name + ".")]
            columns += children or [name]
        return columns


def _valid_hint(kind: str, item: dict[str, Any]) -> str:
    known = known_fields(kind)
    families = [name for name in LAYOUTS[kind].csv if name.endswith(".*")]
    text = "valid fields: " + ", ".join(known + [name[:-1] + "KEY" for name in families])
    sent = [key for key in item if key not in known]
    return text + (f"; the API also sent: {', '.join(sent)}" if sent else "")
