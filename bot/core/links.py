"""Which links may appear in a chat message: http(s) with a real host name (RELIABILITY C4)."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

LINK_MAX = 2000
_BAD_CHAR = re.compile(r"[\s\x00-\x1f\x7f<>\"\\`]")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


@functools.lru_cache(maxsize=4096)
def web_link(url: str | None) -> str | None:
    """``url`` (stripped) when it is http(s) with a host name and no credentials, else None.

    Feed links are attacker-controlled: ``javascript:``, control characters, credentials or a
    malformed host make a platform reject the whole message, or mislead the reader.
    """
    if not url:
        return None
    url = url.strip()
    if len(url) > LINK_MAX or _BAD_CHAR.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username is not None:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return url if _HOST.match(ascii_host) else None
