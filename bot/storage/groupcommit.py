"""Group commit: concurrent small writes share one transaction, one fsync and bulk statements.

SQLite has one writer and, with ``synchronous=FULL``, pays an fsync per commit; 50 feeds
finishing together would otherwise queue 50 commits behind one another, each with its own
handful of statements. Requests submitted while a batch is being written wait and go together
in the next one, up to ``max_batch`` per transaction, handed to ``write`` as one list. If a
batch fails, it is rolled back and every request in it is written again alone, so one bad feed
never fails the others and each caller gets its own result or its own error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Conn = TypeVar("Conn")
Request = TypeVar("Request")
Result = TypeVar("Result")

Begin = Callable[[], contextlib.AbstractAsyncContextManager[Conn]]
Write = Callable[[Conn, Sequence[Request]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Conn, Request, Result]):
    """Writes requests in shared transactions opened by ``begin``, one transaction at a time.

    ``write(conn, requests)`` must return one result per request, in order.
    """

    def __init__(
        self, begin: Begin[Conn], write: Write[Conn, Request, Result], *, max_batch: int = 64
    ) -> None:
        self._begin = begin
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[Request, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, request: Request) -> Result:
        """The request's result once its transaction committed; its own error if it failed.

        A caller cancelled before its batch starts is left out of it; once the batch started,
        the request commits or fails with the batch.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="newsbot:group-commit")
        return await future

    async def wait_idle(self) -> None:
        """Return once every submitted request is committed or failed (before closing)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])

    async def _drain(self) -> None:
        batch: list[tuple[Request, asyncio.Future[Result]]] = []
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

    async def _commit(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> bool:
        """Write the batch in one transaction; False (all rolled back) if anything failed.

        A batch of one hands its error to its caller; a larger one is rewritten one by one.
        """
        try:
            async with self._begin() as conn:
                results = await self._write(conn, [request for request, _ in batch])
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
