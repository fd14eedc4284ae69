"""``reports.bulk.no_collection`` pauses the cyclic collector for a block and gives it back as it
was, also when the block raises (a report that fails must not leave a process without it)."""

from __future__ import annotations

import gc

import pytest

from feedback.reports.bulk import no_collection


def test_paused_inside_and_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with no_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), no_collection():
        raise RuntimeError("the report failed")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with no_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
