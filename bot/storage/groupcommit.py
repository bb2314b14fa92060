"""Group commit: concurrent small write jobs share one transaction, and so one fsync.

SQLite has one writer and, with ``synchronous=FULL``, pays an fsync per commit; 50 feeds
finishing together would otherwise queue 50 commits behind one another. Jobs submitted while a
batch is being written wait and go together in the next one, up to ``max_batch`` per
transaction. If a batch fails, it is rolled back and every job in it is run again alone, so one
bad feed never fails the others and each caller gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Conn = TypeVar("Conn")
T = TypeVar("T")

Job = Callable[[Conn], Awaitable[Any]]
Begin = Callable[[], contextlib.AbstractAsyncContextManager[Conn]]
_Entry = tuple[Job[Conn], "asyncio.Future[Any]"]


class GroupCommit(Generic[Conn]):
    """Runs write jobs in shared transactions opened by ``begin``, one transaction at a time."""

    def __init__(self, begin: Begin[Conn], *, max_batch: int = 64) -> None:
        self._begin = begin
        self._max_batch = max_batch
        self._queue: list[_Entry[Conn]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[Conn], Awaitable[T]]) -> T:
        """``job(conn)``'s result once its transaction committed; its own error if it failed.

        A caller cancelled before its batch starts is left out of it; once the batch started,
        the job commits or fails with the batch.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="newsbot:group-commit")
        return await future

    async def wait_idle(self) -> None:
        """Return once every submitted job is committed or failed (before the engine closes)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])

    async def _drain(self) -> None:
        batch: list[_Entry[Conn]] = []
        try:
            while self._queue:
                batch = [entry for entry in self._queue[: self._max_batch] if not entry[1].done()]
                del self._queue[: self._max_batch]
                if len(batch) > 1 and await self._commit(batch):
                    continue
                for entry in batch:
                    await self._commit([entry])
        finally:
            # Only a cancelled writer (the loop is closing) gets here with work left.
            for _, future in [*batch, *self._queue]:
                future.cancel()
            self._queue.clear()

    async def _commit(self, batch: list[_Entry[Conn]]) -> bool:
        """Run the batch in one transaction; False (all rolled back) if anything failed.

        A batch of one hands its error to its caller; a larger one is rerun job by job.
        """
        results: list[Any] = []
        try:
            async with self._begin() as conn:
                for job, _ in batch:
                    results.append(await job(conn))
        except Exception as exc:
            if len(batch) > 1:
                return False
            future = batch[0][1]
            if not future.done():
                future.set_exception(exc)
            return True
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
        return True
