"""ReadBatcher: the keys of one loop turn in one fetch, each caller answered on its own."""

from __future__ import annotations

import asyncio

import pytest
from shared.read_batching import ReadBatcher


class Store:
    def __init__(self, fail: bool = False, delay: float = 0.0) -> None:
        self.fetches: list[list[str]] = []
        self.fail = fail
        self.delay = delay

    async def fetch_many(self, keys: list[str]) -> dict[str, str]:
        self.fetches.append(keys)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("database away")
        return {k: k.upper() for k in keys if k != "missing"}


async def test_one_turn_is_one_fetch_with_each_key_once() -> None:
    store = Store()
    batcher = ReadBatcher(store.fetch_many, "test")
    got = await asyncio.gather(*(batcher.get(k) for k in ["a", "b", "a", "missing", "c"]))
    assert got == ["A", "B", "A", None, "C"]
    assert store.fetches == [["a", "b", "missing", "c"]]


async def test_later_turns_fetch_again() -> None:
    store = Store()
    batcher = ReadBatcher(store.fetch_many, "test")
    assert await batcher.get("a") == "A"
    assert await batcher.get("b") == "B"
    assert store.fetches == [["a"], ["b"]]
    assert batcher.batches == 2


async def test_a_failed_fetch_fails_every_caller_of_the_batch() -> None:
    batcher = ReadBatcher(Store(fail=True).fetch_many, "test")
    results = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_a_caller_giving_up_leaves_the_others_answered() -> None:
    store = Store(delay=0.05)
    batcher = ReadBatcher(store.fetch_many, "test")
    impatient = asyncio.create_task(asyncio.wait_for(batcher.get("a"), 0.01))
    patient = asyncio.create_task(batcher.get("a"))
    with pytest.raises(TimeoutError):
        await impatient
    assert await patient == "A"
    assert len(store.fetches) == 1


async def test_a_batch_whose_callers_all_left_fetches_nothing() -> None:
    store = Store()
    batcher = ReadBatcher(store.fetch_many, "test")
    task = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0)  # get() has queued its key
    task.cancel()
    await asyncio.sleep(0.01)
    assert store.fetches == []


async def test_keys_asked_during_a_fetch_wait_for_one_next_fetch() -> None:
    store = Store(delay=0.05)
    batcher = ReadBatcher(store.fetch_many, "test")
    first = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0.01)  # the fetch of "a" is running
    later = [asyncio.create_task(batcher.get(k)) for k in ("b", "c")]
    await asyncio.sleep(0)
    more = asyncio.create_task(batcher.get("d"))  # another turn, same wait
    assert await first == "A"
    assert [await t for t in later] + [await more] == ["B", "C", "D"]
    assert store.fetches == [["a"], ["b", "c", "d"]]


async def test_two_in_flight_when_allowed() -> None:
    store = Store(delay=0.05)
    batcher = ReadBatcher(store.fetch_many, "test", max_in_flight=2)
    first = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(batcher.get("b"))
    await asyncio.sleep(0.01)
    assert store.fetches == [["a"], ["b"]]  # "b" did not wait for "a"
    assert (await first, await second) == ("A", "B")


async def test_a_failed_fetch_does_not_stall_the_next() -> None:
    store = Store(fail=True, delay=0.02)
    batcher = ReadBatcher(store.fetch_many, "test")
    first = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0.005)
    second = asyncio.create_task(batcher.get("b"))
    with pytest.raises(ConnectionError):
        await first
    store.fail = False
    assert await second == "B"
