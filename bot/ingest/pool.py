"""The parser pool: ``parse_feed`` in lean, memory-capped, time-limited worker processes.

Kept apart from ``bot.ingest.parse`` so the bot's own process never imports feedparser: only
the workers (``bot.ingest.parse_worker``) do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import struct
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed

_FRAME = struct.Struct("!Q")
# A fresh interpreter importing the parser takes ~0.3 s; a loaded 2-core host, far more.
_START_TIMEOUT_S = 60.0


class _Worker:
    """One ``bot.ingest.parse_worker`` process and its pipes; used by one parse at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def spawn(cls, limit_bytes: int) -> _Worker:
        """A fresh interpreter importing only the parser, never a fork of the bot (13.2)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.ingest.parse_worker",
            str(limit_bytes),
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def ready(self) -> None:
        """Wait for the worker's greeting; the caller retires a worker that never sends it."""
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                greeting, _ = await self.answer()
        except (TimeoutError, asyncio.IncompleteReadError) as exc:
            raise FeedParseError("the parser process did not start") from exc
        if greeting != "ready":
            raise FeedParseError("the parser process did not start")

    async def call(self, request: bytes) -> tuple[str, Any]:
        """Send one request and wait for its answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(_FRAME.pack(len(request)) + request)
        await self.process.stdin.drain()
        return await self.answer()

    async def answer(self) -> tuple[str, Any]:
        """Read one framed answer."""
        assert self.process.stdout is not None
        (size,) = _FRAME.unpack(await self.process.stdout.readexactly(_FRAME.size))
        answer: tuple[str, Any] = pickle.loads(await self.process.stdout.readexactly(size))  # noqa: S301 - our own worker wrote it
        return answer

    def kill(self) -> None:
        """Kill the process at once; a parser holds no state worth saving."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()

    async def reap(self) -> None:
        """Wait until the process has exited and its output pipe is closed.

        Only then has asyncio closed the process transport; one left open past the event
        loop fails at garbage collection, inside whichever code runs next.
        """
        assert self.process.stdout is not None
        await asyncio.gather(self.process.stdout.read(), self.process.wait())


class _Slot:
    """One acquired semaphore place, released exactly once (early for a slow parse)."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore: asyncio.Semaphore | None = semaphore

    def release(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()
            self._semaphore = None


class ParserPool:
    """Runs ``parse_feed`` in lean, memory-capped, time-limited worker processes (F2, 14.1).

    ``max_workers`` parses run at once. A parse still running after ``slow_after`` seconds
    gives its place to the next feed (at most ``max_workers`` such slow parses at a time), and
    one past ``time_limit`` seconds is killed with its worker, so no feed waits on another.
    """

    def __init__(
        self,
        max_workers: int = 2,
        memory_limit_mb: int = 1024,
        *,
        time_limit: float = 10.0,
        slow_after: float = 1.0,
    ) -> None:
        self._max_idle = max_workers
        self._limit_bytes = memory_limit_mb * 1024 * 1024
        self._time_limit = time_limit
        self._slow_after = slow_after
        self._slots = asyncio.Semaphore(max_workers)
        self._processes = asyncio.Semaphore(2 * max_workers)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        # Killed but maybe not yet reaped: ``aclose`` waits for these too, so no process
        # transport outlives the event loop.
        self._retired: set[_Worker] = set()
        self._closed = False

    async def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        """Parse in a worker; a refusal, a timeout or a dead worker becomes FeedParseError."""
        if self._closed:
            raise RuntimeError("the parser pool is closed")
        # aiohttp's header proxies do not pickle; a plain dict does.
        plain_headers = {name.lower(): value for name, value in headers.items()}
        request = pickle.dumps((body, plain_headers, url), protocol=pickle.HIGHEST_PROTOCOL)
        async with self._processes:
            await self._slots.acquire()
            slot = _Slot(self._slots)
            timer = asyncio.get_running_loop().call_later(self._slow_after, slot.release)
            try:
                kind, value = await self._run(request)
            finally:
                timer.cancel()
                slot.release()
        if kind == "ok":
            assert isinstance(value, ParsedFeed)
            return value
        raise FeedParseError(str(value))

    async def _run(self, request: bytes) -> tuple[str, Any]:
        """One request on an idle (or new) worker, which is retired if anything went wrong."""
        if self._idle:
            worker = self._idle.pop()
        else:
            worker = await _Worker.spawn(self._limit_bytes)
            self._workers.add(worker)
            try:
                await worker.ready()
            except BaseException:
                self._retire(worker)
                raise
        try:
            kind, value = await asyncio.wait_for(worker.call(request), self._time_limit)
        except TimeoutError:
            self._retire(worker)
            raise FeedParseError(
                f"the feed took too long to parse (over {self._time_limit:g} s)"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self._retire(worker)
            raise FeedParseError("the parser process died while reading this feed") from exc
        except BaseException:
            # Cancelled mid-request: the worker's answer would arrive for nobody.
            self._retire(worker)
            raise
        if kind == "fatal" or self._closed or len(self._idle) >= self._max_idle:
            self._retire(worker)
        else:
            self._idle.append(worker)
        return kind, value

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.discard(worker)
        self._retired = {old for old in self._retired if old.process.returncode is None}
        self._retired.add(worker)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)

    async def aclose(self) -> None:
        """Stop every worker now and wait until each has exited; parses still running fail,
        later ones raise RuntimeError."""
        self._closed = True
        for worker in list(self._workers):
            self._retire(worker)
        await asyncio.gather(*(worker.reap() for worker in self._retired))
        self._retired.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
