"""Group commit: concurrent small writes share one transaction, one fsync and bulk statements.

SQLite has one writer and, with ``synchronous=FULL``, pays an fsync per commit; 50 feeds
finishing together would otherwise queue 50 commits behind one another, each with its own
handful of statements. Requests submitted while a batch is being written wait and go together
in the next one, up to ``max_batch`` per transaction, handed to ``write`` as one list. If a
batch fails, it is rolled back and every request in it is written again alone, so one bad feed
never fails the others and each caller gets its own result or its own error.

Requests that arrive a few milliseconds apart (polls answered 304 finish that way) would each
find the writer idle and pay a transaction of their own, about 1 ms of CPU on SQLite, more
than the write itself. A ``patient`` request lets the writer wait up to ``linger`` for company
before it opens the transaction; a full batch or any impatient request (a poll with new items,
whose caller waits to announce them) ends the wait.
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

    ``write(conn, requests)`` must return one result per request, in order; ``linger`` is how
    many seconds a batch of patient requests that is not full waits for more.
    """

    def __init__(
        self,
        begin: Begin[Conn],
        write: Write[Conn, Request, Result],
        *,
        max_batch: int = 64,
        linger: float = 0.0,
    ) -> None:
        self._begin = begin
        self._write = write
        self._max_batch = max_batch
        self._linger = linger
        self._go = asyncio.Event()
        self._impatient: set[asyncio.Future[Result]] = set()
        self._queue: list[tuple[Request, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, request: Request, *, patient: bool = False) -> Result:
        """The request's result once its transaction committed; its own error if it failed.

        A caller cancelled before its batch starts is left out of it; once the batch started,
        the request commits or fails with the batch. A ``patient`` one may wait for ``linger``.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if not patient:
            self._impatient.add(future)
        if not patient or len(self._queue) >= self._max_batch:
            self._go.set()
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
                await self._gather()
                taken = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                self._impatient.difference_update(future for _, future in taken)
                batch = [entry for entry in taken if not entry[1].done()]
                if len(batch) > 1 and await self._commit(batch):
                    continue
                for entry in batch:
                    await self._commit([entry])
        finally:
            # Only a cancelled writer (the loop is closing) gets here with work left.
            for _, future in [*batch, *self._queue]:
                future.cancel()
            self._queue.clear()
            self._impatient.clear()

    async def _gather(self) -> None:
        """Wait up to ``linger`` for the next batch of patient requests to fill."""
        if not self._linger or self._impatient or len(self._queue) >= self._max_batch:
            return
        self._go.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._linger):
                await self._go.wait()

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
