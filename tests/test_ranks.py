"""``reports.ranks.middle``: where the middle values of a group lie, from its answers per hour.

The positions must name exactly the values ``sql.median_by`` averages: ranks (n+1) div 2 and
(n+2) div 2 of the sorted values. Checked against the sorted list itself for any counts per hour.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from feedback.reports.ranks import middle, two_runs

HOURS = st.dictionaries(st.integers(-5, 60), st.integers(1, 6), max_size=12)


@given(HOURS)
@example({3: 1, 4: 1})  # an even n whose middle two lie in different hours
@example({3: 2})  # both middle values in one hour
@example({-2: 1, 0: 2})  # hours below zero (a clock skew) are ordinary hours
@example({})
def test_middle_names_the_middle_ranks(counts: dict[int, int]) -> None:
    buckets = sorted(counts.items())
    # each value as (hour, its index within the hour): sorted, as an index by hours reads them
    values = [(hour, i) for hour, count in buckets for i in range(count)]
    n = len(values)
    positions = middle(buckets)
    if n == 0:
        assert positions == []
        return
    wanted = [values[r - 1] for r in sorted({(n + 1) // 2, (n + 2) // 2})]
    got = [(hour, skip + i) for hour, skip, take in positions for i in range(take)]
    assert got == wanted
    assert len({hour for hour, _, _ in positions}) == len(positions)  # one run per hour


@given(st.dictionaries(st.integers(-5, 60), st.integers(-3, 6).filter(bool), max_size=12))
@example({})
@example({3: -2, 4: 1})  # counts whose sum is not positive (only a broken rollup has them)
def test_two_runs_always_fill_one_row(counts: dict[int, int]) -> None:
    """Each group is one row of the PostgreSQL statement's arrays: always two runs, whatever the
    counts (a group's hours from ``buckets``: each hour once, its count not zero); for counts a
    rollup holds, :func:`middle`'s runs first and the rest empty (nothing taken)."""
    buckets = sorted(counts.items())
    runs = two_runs(buckets)
    assert len(runs) == 2
    if all(count > 0 for _, count in buckets):
        real = middle(buckets)
        assert runs[: len(real)] == real
        assert all(take == 0 for _, _, take in runs[len(real) :])
