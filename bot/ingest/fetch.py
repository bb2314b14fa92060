"""newsbot's one HTTP client: guarded addresses, conditional GET, hard time and size caps."""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDictProxy
from yarl import URL

from bot.core.errors import (
    AddressNotAllowed,
    ConnectionFailed,
    FetchTimeout,
    HttpStatusError,
    TooLarge,
    TooManyRedirects,
)
from bot.core.models import Validators
from bot.ingest.safety import AddressPolicy, is_ip_literal, safe_url

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Per-request ceilings; the total deadline covers every redirect hop and the whole body."""

    total_timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 4
    total_connections: int = 100
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot/newsbot)"


@dataclass(frozen=True)
class FetchResult:
    """One fetch's outcome; ``permanent_url`` is only a hint until the new target parses (A7)."""

    url: str
    final_url: str
    status: int
    body: bytes
    headers: dict[str, str]
    validators: Validators
    permanent_url: str | None = None


@dataclass(frozen=True)
class _Redirect:
    """A hop's answer telling the fetcher where to go next; ``target`` is not yet checked."""

    target: str
    permanent: bool


# True while the request in this task is a redirect to another host or port: the resolver
# then allows public addresses and exactly named host:port entries only (see AddressPolicy).
_MOVED_HOP: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "newsbot_moved_hop", default=False
)


class GuardedResolver(AbstractResolver):
    """Checks every address DNS returns, at connect time, so rebinding cannot slip past (A2)."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver) -> None:
        """Wrap ``inner`` (the real or a test resolver) with ``policy``."""
        self._policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve with the inner resolver and refuse the host if any answer is not allowed."""
        results = await self._inner.resolve(host, port, family)
        addresses = [result["host"] for result in results]
        self._policy.check_resolved(host, addresses, port, moved=_MOVED_HOP.get())
        return results

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


class Fetcher:
    """Async context manager owning the one aiohttp session all feed and page fetches share."""

    def __init__(
        self,
        policy: AddressPolicy,
        limits: FetchLimits = FetchLimits(),
        resolver: AbstractResolver | None = None,
    ) -> None:
        """Take the address policy, limits and optionally the base resolver to guard (tests)."""
        self._policy = policy
        self._limits = limits
        self._base_resolver = resolver
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        """Open the session; the resolver is created here because it needs the running loop."""
        self._resolver = GuardedResolver(
            self._policy, self._base_resolver or aiohttp.ThreadedResolver()
        )
        connector = aiohttp.TCPConnector(
            limit=self._limits.total_connections,
            limit_per_host=self._limits.per_host,
            resolver=self._resolver,
            # Without the cache every new connection re-resolves, so every answer is checked.
            use_dns_cache=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # The total deadline is our own asyncio.timeout so it also covers redirects.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._limits.connect_timeout),
            headers={
                "User-Agent": self._limits.user_agent,
                "Accept-Encoding": "gzip, deflate, br",
            },
            trust_env=False,
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the session and its connections, and the resolver if this fetcher made it."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        # The connector never closes a resolver it was given; an injected one belongs to the caller.
        if self._resolver is not None and self._base_resolver is None:
            await self._resolver.close()
        self._resolver = None

    async def fetch(
        self, url: str, validators: Validators | None = None, *, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        """Conditionally GET ``url``, following checked redirects, within the total deadline."""
        if self._session is None:
            raise RuntimeError("Fetcher is not open; use 'async with Fetcher(...)'")
        requested = self._policy.check_url(url)
        try:
            async with asyncio.timeout(self._limits.total_timeout):
                return await self._follow(self._session, requested, validators, accept)
        except TimeoutError as exc:
            raise FetchTimeout(
                f"timeout: {safe_url(requested)} did not finish within "
                f"{self._limits.total_timeout:g} s",
                url=safe_url(requested),
            ) from exc

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an article page (HTML) under the same guard and limits as feeds."""
        return await self.fetch(url, accept=PAGE_ACCEPT)

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        requested: str,
        validators: Validators | None,
        accept: str,
    ) -> FetchResult:
        """Walk the redirect chain by hand so every hop is normalised and checked."""
        current = requested
        all_permanent = True
        redirected = False
        moved_hop = False
        try:
            for _ in range(self._limits.max_redirects + 1):
                answer = await self._exchange(session, current, validators, accept, moved_hop)
                if not isinstance(answer, _Redirect):
                    if not redirected:
                        return answer  # already names the requested URL, with no move
                    moved = current if all_permanent else None
                    return replace(answer, url=requested, permanent_url=moved)
                redirected = True
                all_permanent = all_permanent and answer.permanent
                target = self._policy.check_url(answer.target, redirected_from=current)
                moved_hop = self._policy.moves(current, target)
                current = target
        except AddressNotAllowed as exc:
            if not redirected:
                raise
            # The user named a public URL; say that a redirect led to the refused address.
            raise AddressNotAllowed(
                f"{exc} (after a redirect from {safe_url(requested)})",
                url=exc.url or safe_url(current),
            ) from exc
        raise TooManyRedirects(
            f"too many redirects: {safe_url(requested)} redirected more than "
            f"{self._limits.max_redirects} times",
            url=safe_url(requested),
        )

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        url: str,
        validators: Validators | None,
        accept: str,
        moved_hop: bool = False,
    ) -> FetchResult | _Redirect:
        """Send one request and turn aiohttp's failures into our error tree."""
        token = _MOVED_HOP.set(moved_hop)
        try:
            if moved_hop:
                await self._check_moved_host(url)
            return await self._send(session, url, validators, accept)
        finally:
            _MOVED_HOP.reset(token)

    async def _check_moved_host(self, url: str) -> None:
        """Resolve a redirect's new host name now: a pooled connection would skip the resolver."""
        parsed = URL(url)
        host, port = parsed.raw_host or "", parsed.port or 0
        if self._resolver is None or is_ip_literal(host) or self._policy.named_exactly(host, port):
            return
        try:
            await self._resolver.resolve(host, port, socket.AF_UNSPEC)
        except AddressNotAllowed as exc:
            raise AddressNotAllowed(str(exc), url=safe_url(url)) from exc
        except OSError as exc:
            raise ConnectionFailed(
                f"connection failed: {safe_url(url)}: {exc.strerror or type(exc).__name__}",
                url=safe_url(url),
            ) from exc

    async def _send(
        self,
        session: aiohttp.ClientSession,
        url: str,
        validators: Validators | None,
        accept: str,
    ) -> FetchResult | _Redirect:
        headers = {"Accept": accept}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        try:
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                return await self._answer(resp, url, validators)
        except AddressNotAllowed as exc:
            # Raised by the guarded resolver, which does not know the URL.
            raise AddressNotAllowed(str(exc), url=safe_url(url)) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            shown = safe_url(url)
            raise FetchTimeout(
                f"timeout: could not connect to {shown} within {self._limits.connect_timeout:g} s",
                url=shown,
            ) from exc
        except aiohttp.ClientError as exc:
            shown = safe_url(url)
            raise ConnectionFailed(
                f"connection failed: {shown}: {_describe(exc)}", url=shown
            ) from exc

    async def _answer(
        self, resp: aiohttp.ClientResponse, url: str, sent: Validators | None
    ) -> FetchResult | _Redirect:
        """Interpret one response: a redirect to follow, a 304, a body, or an HTTP error.

        The URL is made safe to show only for an error: most answers need no message.
        """
        status = resp.status
        if status in _REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                shown = safe_url(url)
                raise HttpStatusError(
                    f"http error: {shown} answered {status} without a Location header",
                    status=status,
                    url=shown,
                )
            return _Redirect(target=urljoin(url, location), permanent=status in _PERMANENT)
        headers = _flatten(resp.headers)
        if status == 304:
            kept = sent or Validators()
            validators = Validators(
                etag=headers.get("etag") or kept.etag,
                last_modified=headers.get("last-modified") or kept.last_modified,
            )
            return FetchResult(url, url, status, b"", headers, validators)
        if not 200 <= status < 300:
            retry_after = (
                _retry_after(headers.get("retry-after"))
                if status in _RETRY_AFTER_STATUSES
                else None
            )
            shown = safe_url(url)
            raise HttpStatusError(
                f"http error: {shown} answered {status} {_phrase(status)}".rstrip(),
                status=status,
                url=shown,
                retry_after=retry_after,
            )
        body = await self._read_body(resp, url)
        validators = Validators(headers.get("etag"), headers.get("last-modified"))
        return FetchResult(url, url, status, body, headers, validators)

    async def _read_body(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        """Read the decoded body in chunks and stop the moment it passes the cap (A4)."""
        cap = self._limits.max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            resp.close()
            raise _too_large(url, cap)
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > cap:
                resp.close()
                raise _too_large(url, cap)
        return bytes(body)


def _too_large(url: str, cap: int) -> TooLarge:
    """The error for a body over the cap, built only when one is (it formats the URL)."""
    shown = safe_url(url)
    return TooLarge(
        f"too large: {shown} sent more than {_size(cap)} (after decompression)", url=shown
    )


def _flatten(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Lower-case header names, joining repeated headers with commas as RFC 9110 allows."""
    flat: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        flat[key] = f"{flat[key]}, {value}" if key in flat else value
    return flat


def _retry_after(value: str | None) -> float | None:
    """Parse Retry-After as delta-seconds or an HTTP-date, in seconds from now."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _phrase(status: int) -> str:
    """The standard reason phrase; the server's own text is untrusted and may be anything."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _size(n: int) -> str:
    """Render a byte count the way operators configure it."""
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def _describe(exc: aiohttp.ClientError) -> str:
    """Explain an aiohttp failure without echoing URLs (their query strings may hold tokens)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host name could not be resolved"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "the TLS certificate could not be verified"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        errno = exc.os_error.errno
        return f"could not connect ({os.strerror(errno) if errno else 'connection error'})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the response body was cut off or badly encoded"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "the server sent an invalid HTTP response"
    return f"the request failed ({type(exc).__name__})"
