"""Group commit: requests that arrive together are served in one transaction.

A server thread per request, each opening its own transaction, pays a checkout, a
BEGIN, a COMMIT and the locks of every statement once per request; under fifty callers
at once the threads mostly wait for the database and for each other (and for Python's
lock). A :class:`Batcher` hands everything waiting to one thread of its own, which
serves it with one call of ``serve`` (one transaction, one query per table), and gives
each caller its own answer or its own error through a future.

The thread starts with the first request and ends after ``idle`` seconds without one,
so a batcher nobody uses holds no thread and no connection.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

__all__ = ["MOST_PER_BATCH", "Batcher", "BatcherClosedError"]

MOST_PER_BATCH: Final = 64
"""Requests per call of ``serve`` at most."""

LINGER: Final = 0.002
"""Seconds a batch waits for one more request before it is served: callers answered
together come back together, a few milliseconds apart; a batch started on the first of
them would leave the rest a whole batch's time behind it (the slow tail of the
latencies), as PostgreSQL's own ``commit_delay`` waits for commits to group."""
GATHER: Final = 0.02
"""Seconds a batch gathers at most, however steadily requests keep coming."""

Request = TypeVar("Request")
Answer = TypeVar("Answer")


class BatcherClosedError(RuntimeError):
    """The batcher was closed (the server is stopping); the request was not served."""

    def __init__(self) -> None:
        super().__init__("the server is stopping; try again later（服务正在停止，请稍后再试）")


class Batcher(Generic[Request, Answer]):
    """Serves what :meth:`submit` is given on a thread of its own, in batches.

    ``serve`` gets the requests waiting (at most ``most``, in the order given) and returns
    one answer per request, or an exception for a request that failed on its own; if it
    raises, every request of the batch gets that error.
    """

    def __init__(
        self,
        serve: Callable[[Sequence[Request]], Sequence[Answer | BaseException]],
        *,
        name: str,
        most: int = MOST_PER_BATCH,
        linger: float = LINGER,
        gather: float = GATHER,
        idle: float = 30.0,
    ) -> None:
        self._serve, self._name, self._most, self._idle = serve, name, most, idle
        self._linger, self._gather = linger, gather
        self._queue: queue.SimpleQueue[tuple[Request, concurrent.futures.Future[Answer]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, request: Request) -> concurrent.futures.Future[Answer]:
        """Queue ``request``; the future holds its answer once its batch was served."""
        future: concurrent.futures.Future[Answer] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise BatcherClosedError
            self._queue.put((request, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Take no more requests; those already given are served first."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            if batch:
                self._answer(batch)

    def _next_batch(
        self,
    ) -> list[tuple[Request, concurrent.futures.Future[Answer]]] | None:
        """What waits (one request at least); ``[]`` to look again; ``None`` to end."""
        try:
            first = self._queue.get(timeout=self._idle)
        except queue.Empty:
            with self._lock:  # submit starts a new thread under the same lock
                if self._queue.empty():
                    self._thread = None
                    return None
            return []
        if first is None:
            return None
        batch = [first]
        until = time.monotonic() + self._gather
        while len(batch) < self._most:
            wait = min(self._linger, until - time.monotonic())
            try:
                waiting = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if waiting is None:  # closing: serve what came before, then stop
                self._queue.put(None)
                break
            batch.append(waiting)
        return batch

    def _answer(self, batch: Sequence[tuple[Request, concurrent.futures.Future[Answer]]]) -> None:
        try:
            answers = self._serve([request for request, _future in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"{self._name} answered {len(answers)} of {len(batch)}")
        except Exception as error:
            answers = [error] * len(batch)
        for (_request, future), answer in zip(batch, answers, strict=True):
            try:
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)
            except concurrent.futures.InvalidStateError:
                pass  # cancelled: the caller went away
