"""The pager's memory of ids: exactly a set's answers, in a bitmap where ids count up."""

from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from zazacli.api.paging import SeenIds

IDS = st.one_of(
    st.integers(0, 5000),
    st.integers(0, 2**63 - 1),
    st.integers(-100, -1),
    st.text(max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(IDS, max_size=300))
def test_seen_ids_answer_as_a_set_does(ids: list[object]) -> None:
    seen, reference = SeenIds(), set()
    for ident in ids:
        assert seen.add(ident) == (ident not in reference), ident
        reference.add(ident)


def test_ids_counting_down_take_kilobytes_not_megabytes() -> None:
    """Newest first, as the API lists calls: descending ids. A set of 200,000 ints takes
    about 12 MiB; the bitmap, about 25 KiB (here: under 256 KiB, all included)."""
    tracemalloc.start()
    seen = SeenIds()
    start = 90_000_000
    for ident in range(start, start - 200_000, -1):
        assert seen.add(ident)
    assert not seen.add(start - 100_000)  # a repeat, anywhere in the range
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 256 * 1024, peak
