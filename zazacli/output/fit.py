"""Text that fits the terminal: an event line stays one line, a notice folds between words.

`calls tail` and `webhooks listen` print an event per line; a line the terminal wrapped
onto two breaks the stream apart (and words in half: `INTEREST|ED`). So below
`COMPACT_BELOW` columns the printers choose a compact layout (no seconds, short
direction, numbers shortened from the middle). Each kind of line is a list of `Slot`s
with declared widths; which of them a terminal of a given width shows is decided from
those widths alone (`shown_slots`), never from an event's data, so every line of a kind
has the same columns, however long its values. Then each value is cut to its slot with
`…`, the free text at the end (a failure reason) takes the room the others leave, and
whatever is still over is cut with `…`, never wrapped.
Notices and hints on a terminal fold at word boundaries, keeping their indent.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

COMPACT_BELOW = 100  # columns: narrower terminals get the compact event lines


@dataclass(frozen=True)
class Slot:
    """A column of an event line. `width`: the cells it takes at most, its leading gap
    included; a longer value is cut to it with `…`, unless the slot is `whole` (the
    event's id and type: what says which event it is stays whole). `drop`: 0 for the
    columns every line keeps, else the order in which a narrower terminal gives the
    column up (the highest first). `flex`: the free text of the line (an outcome, a
    failure reason): `width` cells at least, and all the room the others leave."""

    name: str
    width: int
    drop: int = 0
    flex: bool = False
    whole: bool = False


@dataclass(frozen=True)
class Piece:
    """Part of an event line, in the `slot` of that name; `text` carries its own leading
    gap. A piece in no slot (a warning) is always shown, whole: a line that carries one
    gives up columns for it."""

    text: str
    style: str = ""
    slot: str = ""


def middle(text: str, limit: int) -> str:
    """`+14155550100` as `+1415…0100`: the start (country, area) and the end (the
    digits people recognise) of a value too long for `limit`."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


@functools.lru_cache(maxsize=64)
def shown_slots(slots: tuple[Slot, ...], width: int) -> frozenset[str]:
    """The slots a line of these slots shows in `width` cells: optional ones hidden, the
    highest `drop` first (the rightmost first among equals), until the declared widths
    fit. Decided from the widths alone: the same columns for every line."""
    shown = list(slots)
    ranked = sorted(
        (i for i, slot in enumerate(slots) if slot.drop),
        key=lambda i: (slots[i].drop, i),
        reverse=True,
    )
    for index in ranked:
        if sum(slot.width for slot in shown) <= width:
            break
        shown.remove(slots[index])
    return frozenset(slot.name for slot in shown)


def cut(text: str, cells: int) -> str:
    """`text` in at most `cells` cells, its end replaced with `…` when longer."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)) + "…" if cells > 0 else ""


def laid_out(pieces: Iterable[Piece], slots: Sequence[Slot], width: int) -> list[Piece]:
    """The pieces of the slots shown at `width` (`shown_slots`), each slot's text cut to
    its width; then the flex slot's text gets the room the others leave (at least its
    own width). A line with a warning (a piece in no slot) gives up its optional columns,
    then its free text, until the warning fits."""
    named = {slot.name: slot for slot in slots}
    shown = shown_slots(tuple(slots), width)
    line = _cut_to_slots([p for p in pieces if not p.slot or p.slot in shown], named)
    if any(not piece.slot for piece in line):
        line = _room_for_warnings(line, named, width)
    return _fill(line, named, width)


def _cut_to_slots(pieces: list[Piece], named: dict[str, Slot]) -> list[Piece]:
    """Each slot's pieces together in at most its width (the flex and whole ones aside)."""
    from rich.cells import cell_len

    left = {name: slot.width for name, slot in named.items()}
    line = []
    for piece in pieces:
        slot = named.get(piece.slot)
        if slot is not None and not (slot.flex or slot.whole):
            piece = Piece(cut(piece.text, left[slot.name]), piece.style, piece.slot)
            left[slot.name] -= cell_len(piece.text)
        line.append(piece)
    return [piece for piece in line if piece.text]


def _room_for_warnings(line: list[Piece], named: dict[str, Slot], width: int) -> list[Piece]:
    """The line without its optional columns, highest `drop` first, then without its free
    text, until what is left (free text at its least) fits."""
    from rich.cells import cell_len

    def cells(pieces: list[Piece]) -> int:
        return sum(
            named[p.slot].width if p.slot in named and named[p.slot].flex else cell_len(p.text)
            for p in pieces
        )

    given_up = [named[p.slot] for p in line if p.slot in named]
    given_up = [slot for slot in given_up if slot.drop or slot.flex]
    rightmost_first = list(dict.fromkeys(reversed(given_up)))
    for slot in sorted(rightmost_first, key=lambda s: (not s.flex, s.drop), reverse=True):
        if cells(line) <= width:
            break
        line = [piece for piece in line if piece.slot != slot.name]
    return line


def _fill(line: list[Piece], named: dict[str, Slot], width: int) -> list[Piece]:
    """The flex slot's text cut to the room the other pieces leave, at least its width."""
    from rich.cells import cell_len

    flexible = {p.slot for p in line if p.slot in named and named[p.slot].flex}
    used = sum(cell_len(piece.text) for piece in line if piece.slot not in flexible)
    filled = []
    for piece in line:
        if piece.slot in flexible:
            room = max(named[piece.slot].width, width - used)
            piece = Piece(cut(piece.text, room), piece.style, piece.slot)
            used += cell_len(piece.text)
        filled.append(piece)
    return filled


def print_line(console: Console, pieces: Iterable[Piece], slots: Sequence[Slot]) -> None:
    """One event, one line of the terminal: see `laid_out`; what still does not fit (a
    narrow window, long warnings) is cut with `…`, never wrapped."""
    from rich.text import Text

    line: Text = Text(no_wrap=True, overflow="ellipsis")
    for piece in laid_out(pieces, slots, console.width):
        line.append(piece.text, piece.style)
    console.print(line, no_wrap=True, overflow="ellipsis", soft_wrap=False, crop=True)
