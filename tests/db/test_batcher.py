"""The group-commit batcher: what waits is served together, each caller gets its own answer."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from hukou.db.batcher import Batcher, BatcherClosedError


class _Gate:
    """A ``serve`` that holds its first batch until released, and records every batch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def serve(self, requests: Sequence[int]) -> list[int | BaseException]:
        self.batches.append(list(requests))
        self.started.set()
        self.release.wait(10)
        return [ValueError(f"odd {n}") if n % 2 else n * 10 for n in requests]


def test_requests_that_wait_are_served_together_in_order() -> None:
    gate = _Gate()
    batcher: Batcher[int, int] = Batcher(gate.serve, name="test", linger=0.0)
    first = batcher.submit(0)
    assert gate.started.wait(10)
    waiting = [batcher.submit(n) for n in range(2, 12, 2)]  # queued while the first is served
    gate.release.set()
    assert first.result(10) == 0
    assert [f.result(10) for f in waiting] == [20, 40, 60, 80, 100]
    assert gate.batches == [[0], [2, 4, 6, 8, 10]]
    batcher.close()


def test_a_request_that_fails_alone_gets_its_own_error() -> None:
    gate = _Gate()
    gate.release.set()
    batcher: Batcher[int, int] = Batcher(gate.serve, name="test")
    good, bad = batcher.submit(2), batcher.submit(3)
    assert good.result(10) == 20
    with pytest.raises(ValueError, match="odd 3"):
        bad.result(10)
    batcher.close()


def test_a_batch_that_fails_gives_every_caller_the_error() -> None:
    def serve(requests: Sequence[int]) -> list[int | BaseException]:
        raise RuntimeError("database gone")

    batcher: Batcher[int, int] = Batcher(serve, name="test")
    futures = [batcher.submit(n) for n in range(3)]
    for future in futures:
        with pytest.raises(RuntimeError, match="database gone"):
            future.result(10)
    batcher.close()


def test_an_answer_per_request_or_every_caller_hears_it() -> None:
    batcher: Batcher[int, int] = Batcher(lambda requests: [], name="short")
    with pytest.raises(RuntimeError, match="short answered 0 of 1"):
        batcher.submit(1).result(10)
    batcher.close()


def test_closing_serves_what_was_given_then_refuses() -> None:
    gate = _Gate()
    batcher: Batcher[int, int] = Batcher(gate.serve, name="test", linger=0.0)
    first = batcher.submit(0)
    assert gate.started.wait(10)
    second = batcher.submit(2)
    closing = threading.Thread(target=batcher.close)
    closing.start()
    gate.release.set()
    closing.join(10)
    assert (first.result(0), second.result(0)) == (0, 20)
    with pytest.raises(BatcherClosedError):
        batcher.submit(4)


def test_an_idle_batcher_lets_its_thread_go_and_starts_another() -> None:
    gate = _Gate()
    gate.release.set()
    batcher: Batcher[int, int] = Batcher(gate.serve, name="idle-test", idle=0.05)
    assert batcher.submit(2).result(10) == 20
    thread = next(t for t in threading.enumerate() if t.name == "idle-test")
    thread.join(10)
    assert not thread.is_alive()
    assert batcher.submit(4).result(10) == 40  # a new thread serves it
    batcher.close()
