"""The worker's Batcher: one batch at a time in its analysis, the next taking all that arrived meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from feedback.services.processing import Outcome
from workers.jobs import Batcher


class Stages:
    """A batch runner whose analysis and write each wait for the test's say-so (threading events:
    the Batcher runs batches in threads)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Semaphore(0)
        self.analysis_may_end: list[threading.Event] = []
        self.fail_before_analysis: set[int] = set()

    def run(self, ids: list[int], analysed: Callable[[], None]) -> dict[int, Any]:
        gate = threading.Event()
        self.analysis_may_end.append(gate)
        self.batches.append(list(ids))
        self.started.release()
        if set(ids) & self.fail_before_analysis:
            raise ConnectionError("database went away")
        assert gate.wait(10)
        analysed()
        return {mid: Outcome(mid, "processed") for mid in ids}


async def _started(stages: Stages, n: int) -> None:
    """Wait until ``n`` batches have started (polling a semaphore from the loop without blocking it)."""
    for _ in range(n):
        while not stages.started.acquire(blocking=False):
            await asyncio.sleep(0)


async def _until(cond: Callable[[], bool]) -> None:
    while not cond():
        await asyncio.sleep(0)


async def test_a_message_under_no_load_is_a_batch_of_its_own_at_once() -> None:
    stages = Stages()
    batcher = Batcher(stages.run, concurrency=2)
    job = asyncio.create_task(batcher.submit(7))
    await _started(stages, 1)
    assert stages.batches == [[7]]
    stages.analysis_may_end[0].set()
    assert (await job).message_id == 7


async def test_ids_arriving_during_an_analysis_go_together_once_it_ends() -> None:
    stages = Stages()
    batcher = Batcher(stages.run, concurrency=2)
    first = asyncio.create_task(batcher.submit(1))
    await _started(stages, 1)
    later = [asyncio.create_task(batcher.submit(i)) for i in (2, 3, 4)]
    await _until(lambda: len(batcher._pending) == 3)
    # the second batch waits for the first's analysis instead of taking the first id that came
    assert stages.batches == [[1]]
    stages.analysis_may_end[0].set()
    await _started(stages, 1)
    assert stages.batches == [[1], [2, 3, 4]]
    stages.analysis_may_end[1].set()
    outcomes = await asyncio.gather(first, *later)
    assert [o.message_id for o in outcomes] == [1, 2, 3, 4]


async def test_a_batch_failing_before_its_analysis_ends_lets_the_next_one_in() -> None:
    stages = Stages()
    stages.fail_before_analysis = {1}
    batcher = Batcher(stages.run, concurrency=2)
    with pytest.raises(ConnectionError):
        await batcher.submit(1)  # every job of a batch with a shared fault raises it (arq retries)
    job = asyncio.create_task(batcher.submit(2))
    await _started(stages, 2)
    assert stages.batches == [[1], [2]]
    stages.analysis_may_end[1].set()
    assert (await job).message_id == 2


async def test_a_batch_releases_the_analysis_once_whichever_call_comes_first() -> None:
    batcher = Batcher(lambda ids, analysed: {}, concurrency=2)
    await batcher._analysing.acquire()
    release = batcher._releaser()
    release()
    assert not batcher._analysing.locked()
    await batcher._analysing.acquire()  # the next batch holds it now
    release()  # the first batch's late second call: a no-op, not the next batch's release
    assert batcher._analysing.locked()
