"""Checks over raw Slack payloads: Block Kit limits (RELIABILITY §2) and inert text (C2-C5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

# Anything between < and > is Slack syntax: a link, a mention, a broadcast.
_ANGLE = re.compile(r"<([^<>]*)>")
_HOST_LABEL = re.compile(r"^[a-z0-9.-]+\.[a-z0-9-]+$")
_BROADCAST = re.compile(r"(?<![\w\u2060])@(channel|here|everyone)\b", re.IGNORECASE)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (JSON-encoded strings are opened too)."""
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def injection_problems(payload: Any) -> list[str]:
    """Live Slack syntax that did not come from us: only <http(s)://…|host> links may remain,
    and the bare channel mentions (``<#C0123>``) our notices name a channel with."""
    found = []
    for text in strings(payload):
        for match in _ANGLE.finditer(text):
            if re.fullmatch(r"#[CG][A-Z0-9]{2,30}", match.group(1)):
                continue
            url, _, label = match.group(1).partition("|")
            parts = urlsplit(url)
            host = (parts.hostname or "").removeprefix("www.")
            if parts.scheme not in ("http", "https") or not _HOST_LABEL.match(label):
                found.append(f"live syntax <{match.group(1)[:80]}>")
            elif label != host:
                found.append(f"link label {label!r} claims a host other than {host!r}")
        found.extend(f"bare broadcast {m.group()}" for m in _BROADCAST.finditer(text))
    return found


def _text_of(item: Any) -> str:
    return str(item.get("text", "")) if isinstance(item, dict) else ""


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """Every Block Kit limit a message payload breaks."""
    found = []
    text = payload.get("text") or ""
    if not text.strip() or len(text) > 4000:
        found.append(f"text {len(text)}")
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > 50:
        found.append(f"{len(blocks)} blocks")
    total = 0
    for block in blocks:
        kind = block["type"]
        body = _text_of(block.get("text"))
        total += len(body)
        if kind == "header" and not 1 <= len(body) <= 150:
            found.append(f"header {len(body)}")
        if kind == "section":
            if "text" in block and not 1 <= len(body) <= 3000:
                found.append(f"section {len(body)}")
            fields = block.get("fields") or []
            if len(fields) > 10:
                found.append(f"{len(fields)} fields")
            for item in fields:
                total += len(_text_of(item))
                if not 1 <= len(_text_of(item)) <= 2000:
                    found.append(f"field {len(_text_of(item))}")
            if "text" not in block and not fields:
                found.append("empty section")
        if kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                found.append(f"{len(elements)} context elements")
            for item in elements:
                total += len(_text_of(item))
                if not 1 <= len(_text_of(item)) <= 3000:
                    found.append(f"context {len(_text_of(item))}")
    if total > 12_000:
        found.append(f"block text {total}")
    return found
