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
    """A batch runner whose analysis ends at the test's say-so (a threading event: the Batcher
    runs batches in threads); each batch's start is announced on the loop's queue."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.batches: list[list[int]] = []
        self.starts: asyncio.Queue[list[int]] = asyncio.Queue()
        self.analysis_may_end: list[threading.Event] = []
        self.fail_before_analysis: set[int] = set()

    def run(self, ids: list[int], analysed: Callable[[], None]) -> dict[int, Any]:
        gate = threading.Event()
        self.analysis_may_end.append(gate)
        self.batches.append(list(ids))
        self.loop.call_soon_threadsafe(self.starts.put_nowait, list(ids))
        if set(ids) & self.fail_before_analysis:
            raise ConnectionError("database went away")
        assert gate.wait(10)
        analysed()
        return {mid: Outcome(mid, "processed") for mid in ids}


async def _started(stages: Stages, n: int) -> None:
    """Wait until ``n`` more batches have started."""
    for _ in range(n):
        await asyncio.wait_for(stages.starts.get(), 10)


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
    await asyncio.sleep(0)  # one turn of the loop: each new job runs up to awaiting its outcome
    assert sorted(batcher._pending) == [2, 3, 4]
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
