"""The fetcher against real loopback servers: RELIABILITY A1-A7, conditional GET, errors."""

from __future__ import annotations

import asyncio
import builtins
import re
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohappyeyeballs
import brotli
import pytest

from bot.core.errors import (
    AddressNotAllowed,
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HttpStatusError,
    TooLarge,
    TooManyRedirects,
)
from bot.core.models import Validators
from bot.ingest.fetch import Fetcher, FetchLimits, FetchResult
from bot.ingest.safety import AddressPolicy

from .servers import (
    RSS,
    FakeResolver,
    Handler,
    LoopbackServer,
    PeakRss,
    Request,
    feed,
    redirect,
    respond,
    routes,
)

Serve = Callable[..., Awaitable[LoopbackServer]]

LOOPBACK_ALLOWED = AddressPolicy(["127.0.0.1"])
MIB = 1024 * 1024


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start loopback servers for one test and stop them all afterwards."""
    servers: list[LoopbackServer] = []

    async def start(
        handler: Handler | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> LoopbackServer:
        server = await LoopbackServer(handler or feed(), host, port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def connect_log(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address aiohttp opens a socket to; it has exactly one connect path."""
    attempts: list[object] = []
    original = aiohappyeyeballs.start_connection

    async def spy(addr_infos: list[Any], **kwargs: Any) -> socket.socket:
        attempts.extend(info[4] for info in addr_infos)
        return await original(addr_infos, **kwargs)

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", spy)
    return attempts


async def timed(coro: Coroutine[Any, Any, FetchResult]) -> tuple[FetchResult | FetchError, float]:
    """Run a fetch, returning its result or error and how long it took."""
    start = time.monotonic()
    try:
        outcome: FetchResult | FetchError = await coro
    except FetchError as exc:
        outcome = exc
    return outcome, time.monotonic() - start


# --- A1: internal addresses -------------------------------------------------------------------

INTERNAL_URLS = [
    "http://127.0.0.1:{v4}/",
    "http://[::1]:{v6}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://100.64.0.1/",
    "http://2130706433:{v4}/",
    "http://0x7f000001:{v4}/",
    "http://0177.0.0.1:{v4}/",
    "http://[::ffff:127.0.0.1]:{v4}/",
    "http://feed.test:{v4}/",
]


@pytest.mark.parametrize("template", INTERNAL_URLS)
async def test_a1_internal_addresses_are_refused_without_a_connection(
    serve: Serve, connect_log: list[object], template: str
) -> None:
    v4 = await serve(host="127.0.0.1")
    v6 = await serve(host="::1")
    resolver = FakeResolver({"feed.test": ["127.0.0.1"]})
    async with Fetcher(AddressPolicy(), resolver=resolver) as fetcher:
        with pytest.raises(AddressNotAllowed, match=r"^address not allowed: "):
            await fetcher.fetch(template.format(v4=v4.port, v6=v6.port))
    assert (v4.connections, v6.connections) == (0, 0)
    assert connect_log == []


@pytest.mark.parametrize(
    ("template", "allow"),
    [
        ("http://127.0.0.1:{v4}/", ["127.0.0.1"]),
        ("http://[::ffff:127.0.0.1]:{v4}/", ["127.0.0.1"]),
        ("http://feed.test:{v4}/", ["127.0.0.1"]),
        ("http://feed.test:{v4}/", ["feed.test"]),
        ("http://[::1]:{v6}/", ["::1"]),
    ],
)
async def test_a1_the_allow_list_lets_the_same_fetch_through(
    serve: Serve, template: str, allow: list[str]
) -> None:
    v4 = await serve(host="127.0.0.1")
    v6 = await serve(host="::1")
    resolver = FakeResolver({"feed.test": ["127.0.0.1"]})
    async with Fetcher(AddressPolicy(allow), resolver=resolver) as fetcher:
        result = await fetcher.fetch(template.format(v4=v4.port, v6=v6.port))
    assert (result.status, result.body) == (200, RSS)
    assert v4.connections + v6.connections == 1


async def test_a1_numeric_forms_stay_refused_when_their_address_is_allowed(
    serve: Serve, connect_log: list[object]
) -> None:
    v4 = await serve()
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(AddressNotAllowed, match="non-canonical numeric IP address"):
            await fetcher.fetch(f"http://2130706433:{v4.port}/")
    assert v4.connections == 0
    assert connect_log == []


# --- A2: redirects and DNS rebinding ----------------------------------------------------------


@pytest.mark.parametrize("target_host", ["127.0.0.1", "internal.test"])
async def test_a2_a_redirect_to_an_internal_address_is_refused(
    serve: Serve, target_host: str
) -> None:
    internal = await serve(host="127.0.0.1")
    public = await serve(redirect(f"http://{target_host}:{internal.port}/admin"), host="127.0.0.2")
    resolver = FakeResolver({"internal.test": ["127.0.0.1"]})
    async with Fetcher(AddressPolicy(["127.0.0.2"]), resolver=resolver) as fetcher:
        with pytest.raises(AddressNotAllowed, match="address not allowed") as info:
            await fetcher.fetch(public.url("/feed"))
    assert str(info.value).endswith(f"(after a redirect from {public.url('/feed')})")
    assert [r.path for r in public.requests] == ["/feed"]
    assert internal.connections == 0


async def test_a2_rebinding_between_redirect_hops_is_caught_at_connect_time(serve: Serve) -> None:
    public = await serve(redirect("/next"), host="127.0.0.2")
    internal = await serve(host="127.0.0.1", port=public.port)
    resolver = FakeResolver({"rebind.test": ["127.0.0.2", "127.0.0.1"]})
    async with Fetcher(AddressPolicy(["127.0.0.2"]), resolver=resolver) as fetcher:
        with pytest.raises(AddressNotAllowed, match=r"rebind\.test resolves to 127\.0\.0\.1"):
            await fetcher.fetch(f"http://rebind.test:{public.port}/feed")
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert public.connections == 1
    assert internal.connections == 0


async def test_a2_rebinding_between_polls_is_caught_and_nothing_is_resolved_twice(
    serve: Serve,
) -> None:
    public = await serve(host="127.0.0.2")
    internal = await serve(host="127.0.0.1", port=public.port)
    resolver = FakeResolver({"rebind.test": ["127.0.0.2", "127.0.0.1"]})
    url = f"http://rebind.test:{public.port}/feed"
    async with Fetcher(AddressPolicy(["127.0.0.2"]), resolver=resolver) as fetcher:
        assert (await fetcher.fetch(url)).body == RSS
        with pytest.raises(AddressNotAllowed):
            await fetcher.fetch(url)
    # One lookup per connection: the address checked is the address connected to.
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert internal.connections == 0


# --- A3: schemes and paths --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/app/.env",
        "ftp://x.test/",
        "gopher://x.test/",
        "javascript:x",
        "data:text/xml,<rss/>",
        "feed:file:///etc/passwd",
    ],
)
async def test_a3_other_schemes_are_refused_before_any_socket_or_file(
    connect_log: list[object], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    opened: list[object] = []
    resolver = FakeResolver({"x.test": ["127.0.0.1"]})
    async with Fetcher(AddressPolicy(["127.0.0.1"]), resolver=resolver) as fetcher:
        with monkeypatch.context() as patch:
            patch.setattr(builtins, "open", lambda *args, **kwargs: opened.append(args))
            with pytest.raises(AddressNotAllowed, match="only http and https"):
                await fetcher.fetch(url)
    assert (opened, resolver.calls, connect_log) == ([], [], [])


# --- A4: size caps ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """300 MiB of zeros, gzip (~300 KB) and brotli encoded, built once per module."""
    zeros = bytes(MIB)
    gzip = zlib.compressobj(9, zlib.DEFLATED, 31)
    br = brotli.Compressor(quality=5)
    gz_parts = [gzip.compress(zeros) for _ in range(300)] + [gzip.flush()]
    br_parts = [br.process(zeros) for _ in range(300)] + [br.finish()]
    return {"gzip": b"".join(gz_parts), "br": b"".join(br_parts)}


async def declares_one_gib(request: Request, writer: asyncio.StreamWriter) -> None:
    """Claim 1 GiB, send a little, then stall."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n" + bytes(MIB))
    await writer.drain()
    await asyncio.sleep(60)


async def endless_chunks(request: Request, writer: asyncio.StreamWriter) -> None:
    """Stream chunked zeros until the client hangs up."""
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = bytes(64 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(block), block)
    while True:
        writer.write(chunk)
        await writer.drain()


def bomb(kind: str) -> Callable[[dict[str, bytes]], Handler]:
    """A handler serving the ``kind`` bomb with its Content-Encoding."""
    return lambda bombs: feed(bombs[kind], {"Content-Encoding": kind})


@pytest.mark.parametrize(
    "make_handler",
    [
        lambda bombs: declares_one_gib,
        lambda bombs: endless_chunks,
        bomb("gzip"),
        bomb("br"),
    ],
    ids=["content-length-1GiB", "endless-chunked", "gzip-bomb", "brotli-bomb"],
)
async def test_a4_oversized_bodies_stop_at_the_decoded_cap(
    serve: Serve,
    bombs: dict[str, bytes],
    make_handler: Callable[[dict[str, bytes]], Handler],
) -> None:
    server = await serve(make_handler(bombs))
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with PeakRss() as rss:
            outcome, elapsed = await timed(fetcher.fetch(server.url()))
    assert isinstance(outcome, TooLarge), outcome
    assert str(outcome) == f"too large: {server.url()} sent more than 10 MiB (after decompression)"
    assert elapsed < 5
    assert rss.growth < FetchLimits().max_bytes + 50 * MIB


# --- A5: slow servers -------------------------------------------------------------------------


async def trickle(request: Request, writer: asyncio.StreamWriter) -> None:
    """Send headers, then one byte a second."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while True:
        writer.write(b"<")
        await writer.drain()
        await asyncio.sleep(1)


async def silent(request: Request, writer: asyncio.StreamWriter) -> None:
    """Accept the request and never answer."""
    await asyncio.sleep(60)


async def test_a5_a_stalled_server_is_cut_at_the_deadline_while_others_poll(serve: Serve) -> None:
    slow = await serve(trickle)
    mute = await serve(silent)
    fast = await serve()
    limits = FetchLimits(total_timeout=1.5)
    async with Fetcher(LOOPBACK_ALLOWED, limits) as fetcher:
        outcomes = await asyncio.gather(
            timed(fetcher.fetch(slow.url("/?token=s3cret"))),
            timed(fetcher.fetch(mute.url())),
            *(timed(fetcher.fetch(fast.url(f"/{i}"))) for i in range(5)),
        )
    for outcome, elapsed in outcomes[:2]:
        assert isinstance(outcome, FetchTimeout), outcome
        assert 1.4 < elapsed < 2.5
        assert "did not finish within 1.5 s" in str(outcome)
        assert "s3cret" not in str(outcome)
    for outcome, elapsed in outcomes[2:]:
        assert isinstance(outcome, FetchResult), outcome
        assert elapsed < 0.5


async def test_per_host_connections_are_capped(serve: Serve) -> None:
    async def slow_feed(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.15)
        await respond(writer, 200, RSS)

    server = await serve(slow_feed)
    async with Fetcher(LOOPBACK_ALLOWED, FetchLimits(per_host=2)) as fetcher:
        await asyncio.gather(*(fetcher.fetch(server.url(f"/{i}")) for i in range(6)))
    assert server.max_in_flight == 2


# --- A6: redirect loops -----------------------------------------------------------------------


def chain(hops: int) -> Handler:
    """/hop/0 -> /hop/1 -> ... -> /hop/<hops>, which serves the feed."""
    table = {f"/hop/{i}": redirect(f"/hop/{i + 1}") for i in range(hops)}
    return routes({**table, f"/hop/{hops}": feed()})


@pytest.mark.parametrize(
    ("handler", "path"),
    [(redirect("/loop"), "/loop"), (chain(11), "/hop/0")],
    ids=["self-loop", "11-hop-chain"],
)
async def test_a6_redirect_loops_and_long_chains_fail_fast(
    serve: Serve, handler: Handler, path: str
) -> None:
    server = await serve(handler)
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        outcome, elapsed = await timed(fetcher.fetch(server.url(path)))
    assert isinstance(outcome, TooManyRedirects)
    assert str(outcome) == f"too many redirects: {server.url(path)} redirected more than 5 times"
    assert elapsed < 1
    assert len(server.requests) == FetchLimits().max_redirects + 1


async def test_a6_a_chain_of_exactly_max_redirects_is_followed(serve: Serve) -> None:
    server = await serve(chain(5))
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url("/hop/0"))
    assert (result.status, result.final_url) == (200, server.url("/hop/5"))


# --- A7: permanent moves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "permanent"),
    [(301, 308, True), (308, 301, True), (301, 302, False), (302, 301, False), (307, 303, False)],
)
async def test_a7_permanent_url_only_when_every_hop_is_permanent(
    serve: Serve, first: int, second: int, permanent: bool
) -> None:
    server = await serve(
        routes(
            {
                "/old": redirect("/middle", first),
                "/middle": redirect("/new?x=1", second),
                "/new?x=1": feed(),
            }
        )
    )
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url("/old"))
    assert result.url == server.url("/old")
    assert result.final_url == server.url("/new?x=1")
    assert result.permanent_url == (server.url("/new?x=1") if permanent else None)


async def test_a7_no_permanent_url_without_redirects(serve: Serve) -> None:
    server = await serve()
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url())
    assert (result.final_url, result.permanent_url) == (server.url(), None)


# --- Conditional GET --------------------------------------------------------------------------

ETAG = '"v1"'
MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


def conditional(on_304: dict[str, str]) -> Handler:
    """Serve the feed with validators, and 304 with ``on_304`` headers when they come back."""

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("if-none-match") == ETAG:
            await respond(writer, 304, headers=on_304)
        else:
            await respond(writer, 200, RSS, {"ETag": ETAG, "Last-Modified": MODIFIED})

    return handle


async def test_conditional_get_keeps_validators_when_304_omits_them(serve: Serve) -> None:
    server = await serve(conditional({}))
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        first = await fetcher.fetch(server.url())
        second = await fetcher.fetch(server.url(), first.validators)
    assert first.validators == Validators(ETAG, MODIFIED)
    assert (second.status, second.body, second.validators) == (304, b"", first.validators)
    assert server.requests[1].headers["if-none-match"] == ETAG
    assert server.requests[1].headers["if-modified-since"] == MODIFIED


async def test_conditional_get_takes_new_validators_from_a_304(serve: Serve) -> None:
    server = await serve(conditional({"ETag": '"v2"'}))
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url(), Validators(ETAG, MODIFIED))
    assert result.validators == Validators('"v2"', MODIFIED)


async def test_requests_identify_the_bot_and_ask_for_feeds_compressed(serve: Serve) -> None:
    server = await serve()
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url())
        await fetcher.fetch_page(server.url("/article"))
    feed_request, page_request = server.requests
    assert feed_request.headers["user-agent"] == FetchLimits().user_agent
    assert feed_request.headers["accept-encoding"] == "gzip, deflate, br"
    assert feed_request.headers["accept"].startswith("application/rss+xml")
    assert page_request.headers["accept"].startswith("text/html")
    assert "if-none-match" not in feed_request.headers
    assert result.headers["content-type"] == "application/rss+xml"
    assert all(name == name.lower() for name in result.headers)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", lambda data: zlib.compress(data, wbits=31)),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
    ],
)
async def test_compressed_bodies_are_decoded(
    serve: Serve, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    server = await serve(feed(encode(RSS), {"Content-Encoding": encoding}))
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        result = await fetcher.fetch(server.url())
    assert result.body == RSS


# --- HTTP and connection errors ---------------------------------------------------------------


def in_a_minute() -> str:
    """An HTTP-date 60 s from now, computed when the server answers."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, lambda: "120", (120, 120)),
        (503, lambda: "7", (7, 7)),
        (429, in_a_minute, (55, 60)),
        (429, lambda: "soon", None),
        (500, lambda: "120", None),
    ],
    ids=["429-seconds", "503-seconds", "429-http-date", "429-garbage", "500-ignored"],
)
async def test_http_errors_carry_status_and_retry_after(
    serve: Serve,
    status: int,
    retry_after: Callable[[], str],
    expected: tuple[float, float] | None,
) -> None:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, status, headers={"Retry-After": retry_after()})

    server = await serve(handle)
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(HttpStatusError) as info:
            await fetcher.fetch(server.url())
    assert info.value.status == status
    assert str(info.value).startswith(f"http error: {server.url()} answered {status} ")
    if expected is None:
        assert info.value.retry_after is None
    else:
        assert info.value.retry_after is not None
        assert expected[0] <= info.value.retry_after <= expected[1]


async def test_a_redirect_without_location_is_an_http_error(serve: Serve) -> None:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 302)

    server = await serve(handle)
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(HttpStatusError, match="without a Location header"):
            await fetcher.fetch(server.url())


@pytest.mark.parametrize(
    "handler",
    [
        routes({}),
        redirect("/loop?token=s3cret"),
        redirect("http://169.254.169.254/?token=s3cret"),
        redirect("ftp://x.test/?token=s3cret"),
    ],
    ids=["404", "loop", "refused-redirect", "bad-scheme-redirect"],
)
async def test_error_messages_never_show_query_strings(serve: Serve, handler: Handler) -> None:
    server = await serve(handler)
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(server.url("/loop?token=s3cret"))
    assert "s3cret" not in str(info.value)
    assert "s3cret" not in info.value.url


async def test_a_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(ConnectionFailed) as info:
            await fetcher.fetch(f"http://127.0.0.1:{port}/feed?token=s3cret")
    assert str(info.value) == (
        f"connection failed: http://127.0.0.1:{port}/feed: could not connect (Connection refused)"
    )
    assert "s3cret" not in str(info.value)


async def test_a_blackholed_connect_is_cut_at_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def never_connects(addr_infos: list[Any], **kwargs: Any) -> socket.socket:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    # Loopback always answers at once, so fake the edge: a SYN that is silently dropped.
    monkeypatch.setattr(aiohappyeyeballs, "start_connection", never_connects)
    limits = FetchLimits(connect_timeout=0.3, total_timeout=5)
    async with Fetcher(LOOPBACK_ALLOWED, limits) as fetcher:
        outcome, elapsed = await timed(fetcher.fetch("http://127.0.0.1:9/feed"))
    assert isinstance(outcome, FetchTimeout)
    assert str(outcome) == "timeout: could not connect to http://127.0.0.1:9/feed within 0.3 s"
    assert elapsed < 1


async def test_a_server_hanging_up_is_a_connection_failure(serve: Serve) -> None:
    async def hang_up(request: Request, writer: asyncio.StreamWriter) -> None:
        return

    server = await serve(hang_up)
    async with Fetcher(LOOPBACK_ALLOWED) as fetcher:
        with pytest.raises(ConnectionFailed, match="closed the connection"):
            await fetcher.fetch(server.url())


async def test_an_unknown_host_is_a_connection_failure() -> None:
    async with Fetcher(AddressPolicy(), resolver=FakeResolver({})) as fetcher:
        with pytest.raises(ConnectionFailed, match="could not be resolved"):
            await fetcher.fetch("http://nowhere.test/")


async def test_fetching_before_opening_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await Fetcher(AddressPolicy()).fetch("http://example.com/")


# --- 14.5: allow-list entries with ports ------------------------------------------------------


async def test_a_host_port_entry_allows_that_port_only(
    serve: Serve, connect_log: list[object]
) -> None:
    allowed, other = await serve(), await serve()
    async with Fetcher(AddressPolicy([f"127.0.0.1:{allowed.port}"])) as fetcher:
        assert (await fetcher.fetch(allowed.url("/feed"))).body == RSS
        with pytest.raises(AddressNotAllowed, match="loopback"):
            await fetcher.fetch(other.url("/feed"))
    assert other.connections == 0


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:{port}"])
async def test_a_redirect_may_not_change_the_port(serve: Serve, entry: str) -> None:
    other = await serve()
    start = await serve(redirect(f"http://127.0.0.1:{other.port}/feed"))
    async with Fetcher(AddressPolicy([entry.format(port=start.port)])) as fetcher:
        with pytest.raises(
            AddressNotAllowed, match=re.escape(f"may not move to 127.0.0.1:{other.port}")
        ):
            await fetcher.fetch(start.url("/feed"))
    assert other.connections == 0


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:{port}"])
async def test_a_redirect_may_not_change_the_host_to_one_resolving_to_an_allowed_address(
    serve: Serve, entry: str
) -> None:
    target = await serve()
    start = await serve(redirect(f"http://localhost:{target.port}/feed"))
    resolver = FakeResolver({"localhost": ["127.0.0.1"]})
    policy = AddressPolicy([entry.format(port=start.port), f"127.0.0.1:{target.port}"])
    async with Fetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(
            AddressNotAllowed, match=re.escape(f"may not move to localhost:{target.port}")
        ):
            await fetcher.fetch(start.url("/feed"))
    assert target.connections == 0


async def test_a_redirect_within_one_host_and_port_is_followed(serve: Serve) -> None:
    server = await serve(routes({"/old": redirect("/feed", 301), "/feed": feed()}))
    async with Fetcher(AddressPolicy(["127.0.0.1"])) as fetcher:
        result = await fetcher.fetch(server.url("/old"))
    assert result.body == RSS
    assert result.permanent_url == server.url("/feed")


async def test_a_redirect_to_a_host_port_named_exactly_is_followed(serve: Serve) -> None:
    target = await serve()
    start = await serve(redirect(f"http://localhost:{target.port}/feed"))
    resolver = FakeResolver({"localhost": ["127.0.0.1"]})
    policy = AddressPolicy([f"127.0.0.1:{start.port}", f"localhost:{target.port}"])
    async with Fetcher(policy, resolver=resolver) as fetcher:
        assert (await fetcher.fetch(start.url("/feed"))).body == RSS
    assert target.connections == 1


async def test_a_redirect_to_a_name_for_another_allowed_address_is_refused(serve: Serve) -> None:
    other = await serve(host="127.0.0.2")
    start = await serve(redirect(f"http://news.test:{other.port}/feed"))
    resolver = FakeResolver({"news.test": ["127.0.0.2"]})
    async with Fetcher(AddressPolicy(["127.0.0.1", "127.0.0.2"]), resolver=resolver) as fetcher:
        with pytest.raises(AddressNotAllowed, match=re.escape("may not move to news.test")):
            await fetcher.fetch(start.url("/feed"))
    assert other.connections == 0
