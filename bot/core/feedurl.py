"""One feed, one URL: the address newsbot fetches and the identity that spots duplicates.

Two spellings of one feed (``HTTP://Example.com:80/rss/``, ``https://example.com/rss?utm_source=x``,
``localhost`` and ``127.0.0.1``) must be one subscription, or every story it carries counts its
sources twice. ``clean_url`` is what is stored and fetched (nothing that could change the
response is touched); ``identity`` is the key that is unique per feed: it also ignores the
scheme (http and https of one host are one feed), a trailing slash and the order of parameters.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from bot.core.errors import InvalidInput

URL_MAX = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK = "127.0.0.1"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "::1"})
# Click and campaign trackers: they never change what a feed server returns.
_TRACKING = re.compile(
    r"^(utm_[a-z0-9_]*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid"
    r"|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|wt_mc|ns_campaign)$",
    re.IGNORECASE,
)
_BAD_CHAR = re.compile(r"[\x00-\x20\x7f]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$"
)


def _refuse(why: str) -> InvalidInput:
    return InvalidInput(f"{why}: give the feed's full address, e.g. https://example.com/rss")


def _host(raw: str | None) -> str:
    """The lower-case ASCII host (IDNA for names, compressed form for IPv6)."""
    host = (raw or "").rstrip(".")
    if not host:
        raise _refuse("the address has no host")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        name = ""
    if not _HOST_NAME.match(name):
        raise _refuse(f"{host[:100]!r} is not a valid host name")
    return name


def _path(path: str) -> str:
    """Percent escapes in one case, unreserved characters unescaped, dot segments resolved."""

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    text = _ESCAPE.sub(unescape, path)
    segments: list[str] = []
    for segment in text.split("/"):
        if segment == "..":
            if len(segments) > 1:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    if text.endswith(("/.", "/..")):
        segments.append("")
    joined = "/".join(segments)
    return joined if joined.startswith("/") else "/" + joined


def _query(query: str, *, sort: bool) -> str:
    pairs = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not _TRACKING.match(key)
    ]
    if sort:
        pairs.sort()
    return urlencode(pairs, quote_via=quote)


def _split(url: str) -> tuple[str, str, int | None, str, str]:
    """Scheme, host, explicit non-default port, path and query of an http(s) URL."""
    text = url.strip()
    if not text or len(text) > URL_MAX:
        raise _refuse("the address is empty or longer than 2,048 characters")
    if _BAD_CHAR.search(text):
        raise _refuse("the address contains spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _refuse("the address cannot be read") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _refuse("only http and https feeds can be watched")
    if port == DEFAULT_PORTS[scheme]:
        port = None
    return scheme, _host(parts.hostname), port, parts.path, parts.query


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def clean_url(url: str) -> str:
    """The form to store and fetch: lower-case scheme and host, no default port, credentials,
    fragment or tracking parameters; path and parameter order as given."""
    scheme, host, port, path, query = _split(url)
    return urlunsplit((scheme, _netloc(host, port), path or "/", _query(query, sort=False), ""))


def identity(url: str) -> str:
    """The key that is the same for every spelling of one feed (stored unique)."""
    _, host, port, path, query = _split(url)
    if host in _LOOPBACK_NAMES or host.startswith("127."):
        host = LOOPBACK
    path = _path(quote(path, safe="/%:@!$&'()*+,;=-._~"))
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    key = _netloc(host, port) + path
    query = _query(query, sort=True)
    return f"{key}?{query}" if query else key


def display_host(url: str) -> str:
    """``host[:port]`` for showing a feed, also when the host is an IP address."""
    try:
        _, host, port, _, _ = _split(url)
    except InvalidInput:
        return "unreadable address"
    return _netloc(host, port)
