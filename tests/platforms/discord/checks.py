"""Checks over raw Discord message payloads: limits (RELIABILITY §2) and inert text (C1-C4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# A masked link is "[label](url)" whose "[" is not escaped.
_MASKED_LINK = re.compile(r"(?<!\\)\[([^\[\]]*)\]\(([^()\s]*)\)")
_HOST_LABEL = re.compile(r"^[a-z0-9.-]+$")
_LIVE_SYNTAX = (
    (re.compile(r"@(everyone|here)"), "mass mention"),
    # A channel mention pings nobody; notices name their channel with one (<#123…>).
    (re.compile(r"<@|<#(?!\d{1,20}>)"), "user, role or channel mention"),
    (re.compile(r"(?m)^\s*-?#{1,3} "), "heading"),
    (re.compile(r"(?<!\\)\|\|"), "spoiler"),
    (re.compile(r"(?<!\\)```"), "code block"),
)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """Every Discord limit a message payload breaks."""
    found = []
    content = payload.get("content") or ""
    if len(content.strip()) > 2000:
        found.append(f"content {len(content)}")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        found.append(f"{len(embeds)} embeds")
    total = 0
    for embed in embeds:
        title = embed.get("title") or ""
        description = embed.get("description") or ""
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        fields = embed.get("fields") or []
        total += len(title) + len(description) + len(footer) + len(author)
        for name, text, limit in (
            ("title", title, 256),
            ("description", description, 4096),
            ("footer", footer, 2048),
            ("author", author, 256),
        ):
            if len(text.strip()) > limit:
                found.append(f"{name} {len(text)}")
        if len(fields) > 25:
            found.append(f"{len(fields)} fields")
        for item in fields:
            total += len(item["name"]) + len(item["value"])
            if len(item["name"]) > 256 or len(item["value"]) > 1024:
                found.append("field")
            if not item["name"].strip() or not item["value"].strip():
                found.append("empty field")
        for key in ("url",):
            if key in embed and not re.match(r"^https?://[^\s]+$", embed[key]):
                found.append(f"bad {key} {embed[key][:40]!r}")
    if total > 6000:
        found.append(f"embeds total {total}")
    return found


def injection_problems(payload: dict[str, Any]) -> list[str]:
    """Live mentions, markdown or masked links built from feed text, and unsafe links."""
    found = []
    plain = set()  # footers and author names render neither markdown nor mentions
    for embed in payload.get("embeds") or []:
        plain.add((embed.get("footer") or {}).get("text"))
        plain.add((embed.get("author") or {}).get("name"))
    for text in strings(payload):
        for pattern, what in _LIVE_SYNTAX:
            if pattern.search(text) and (text not in plain or what.endswith("mention")):
                found.append(f"{what} in {text[:80]!r}")
        for label, url in [] if text in plain else _MASKED_LINK.findall(text):
            if not _HOST_LABEL.match(label) or not url.startswith(("http://", "https://")):
                found.append(f"masked link [{label[:40]}]({url[:40]})")
    for embed in payload.get("embeds") or []:
        for key in ("url",):
            if key in embed and not embed[key].startswith(("http://", "https://")):
                found.append(f"embed {key} {embed[key][:40]!r}")
    return found
