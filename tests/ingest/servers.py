"""Loopback-only doubles for the fetcher: raw HTTP servers counting connections, a fake DNS."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType

import psutil
from aiohttp.abc import AbstractResolver, ResolveResult

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>one</title><link>https://example.org/1</link></item></channel></rss>"
)


@dataclass(frozen=True)
class Request:
    """What the server saw of one request; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


async def respond(
    writer: asyncio.StreamWriter,
    status: int = 200,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> None:
    """Write one complete HTTP/1.1 response that closes the connection."""
    fields = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    writer.write(head.encode("latin-1") + b"\r\n" + body)
    await writer.drain()


def feed(body: bytes = RSS, headers: Mapping[str, str] | None = None) -> Handler:
    """A handler that always answers 200 with ``body``."""

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, body, {"Content-Type": "application/rss+xml", **(headers or {})})

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    """A handler that always redirects to ``location``."""

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, status, headers={"Location": location})

    return handle


def routes(table: Mapping[str, Handler]) -> Handler:
    """A handler dispatching on the exact path (query included); anything else is 404."""

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        handler = table.get(request.path)
        if handler is None:
            await respond(writer, 404)
        else:
            await handler(request, writer)

    return handle


class LoopbackServer:
    """A raw asyncio HTTP server on a loopback address that counts every accepted connection."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"test servers bind loopback only, not {host}")
        self.handler = handler
        self.host = host
        self.connections = 0
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._wanted_port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self) -> LoopbackServer:
        """Start listening (port 0 picks a free ephemeral port)."""
        self._server = await asyncio.start_server(self._serve, self.host, self._wanted_port)
        return self

    async def close(self) -> None:
        """Stop listening and cancel handlers still trickling or streaming."""
        if self._server is None:
            return
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def __aenter__(self) -> LoopbackServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/") -> str:
        """An http URL for ``path`` on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request = _parse(head)
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await self.handler(request, writer)
            finally:
                self.in_flight -= 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


def _parse(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers)


class FakeResolver(AbstractResolver):
    """DNS double: each host maps to answers given in turn, the last one repeating."""

    def __init__(self, answers: Mapping[str, Sequence[str]]) -> None:
        for ip in (ip for seq in answers.values() for ip in seq):
            if not ipaddress.ip_address(ip).is_loopback:
                raise ValueError(f"the fake resolver answers loopback only, not {ip}")
        self._answers = {host: list(seq) for host, seq in answers.items()}
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = self._answers.get(host)
        if not answers:
            raise OSError(f"fake resolver has no answer for {host}")
        ip = answers[min(self.calls.count(host), len(answers) - 1)]
        self.calls.append(host)
        return [
            {
                "hostname": host,
                "host": ip,
                "port": port,
                "family": socket.AF_INET6 if ":" in ip else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


class PeakRss:
    """Samples this process's RSS on a thread, since the event loop is busy during the fetch."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.baseline = 0
        self.peak = 0

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        """Peak RSS minus the RSS when sampling started, in bytes."""
        return self.peak - self.baseline

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.002)
