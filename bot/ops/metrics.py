"""Prometheus metric objects behind a tiny API, so the rest of the code never imports the client.

Label values come from small fixed sets (poll outcomes, delivery outcomes, platform names, error
kinds); a caller must never pass a URL or free text as a label, or the series would be unbounded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

# The *_created series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_POLLS = Counter(
    "newsbot_polls",
    "Feed polls by outcome (new, unchanged, not_modified, failed, skipped).",
    ["outcome"],
    registry=REGISTRY,
)
_NOT_MODIFIED = Counter(
    "newsbot_not_modified", "Polls answered 304 Not Modified.", registry=REGISTRY
)
_FETCH_FAILURES = Counter(
    "newsbot_fetch_failures", "Failed polls by kind of error.", ["reason"], registry=REGISTRY
)
_ITEMS = Counter("newsbot_items", "New feed items stored.", registry=REGISTRY)
_SUMMIT_ITEMS = Counter(
    "newsbot_summit_items", "New items the extractor judged summit stories.", registry=REGISTRY
)
_STORIES = Counter(
    "newsbot_summit_stories", "Summit story events (new or updated).", ["kind"], registry=REGISTRY
)
_DELIVERIES = Counter(
    "newsbot_deliveries",
    "Outbox deliveries by platform and outcome (sent, retry, rate_limited, gone, expired, ...).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
_OUTBOX_DEPTH = Gauge(
    "newsbot_outbox_depth",
    "Outbox rows waiting to be sent (pending or sending).",
    registry=REGISTRY,
)
_EXTRACTION = Histogram(
    "newsbot_extraction_seconds",
    "Time to analyse one batch of new items with the summit extractor.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
_LOOP_LAG = Gauge(
    "newsbot_event_loop_lag_seconds", "Latest measured event loop lag.", registry=REGISTRY
)
_CONNECTED = Gauge(
    "newsbot_platform_connected",
    "1 while a chat platform is connected, else 0.",
    ["platform"],
    registry=REGISTRY,
)

_LABEL = re.compile(r"[^a-z0-9_]+")


def _label(value: str) -> str:
    """A short snake_case label value, so a caller's typo cannot explode the series count."""
    return _LABEL.sub("_", value.lower()).strip("_")[:40] or "unknown"


def poll(outcome: str) -> None:
    """Count one feed poll; a ``not_modified`` outcome also counts as a 304."""
    label = _label(outcome)
    _POLLS.labels(label).inc()
    if label == "not_modified":
        _NOT_MODIFIED.inc()


def fetch_failure(reason: str) -> None:
    """Count one failed poll by kind (an error class name such as ``FetchError``)."""
    _FETCH_FAILURES.labels(_label(reason)).inc()


def items(count: int, *, summit: int = 0) -> None:
    """Count newly stored items, ``summit`` of them judged summit stories."""
    if count > 0:
        _ITEMS.inc(count)
    if summit > 0:
        _SUMMIT_ITEMS.inc(summit)


def summit_story(kind: str) -> None:
    """Count one story event (``new`` or ``update``)."""
    _STORIES.labels(_label(kind)).inc()


def delivery(platform: str, outcome: str, count: int = 1) -> None:
    """Count outbox deliveries to ``platform`` that ended in ``outcome``."""
    if count > 0:
        _DELIVERIES.labels(_label(platform), _label(outcome)).inc(count)


def outbox_depth(rows: int) -> None:
    """Set how many outbox rows wait to be sent."""
    _OUTBOX_DEPTH.set(rows)


def extraction(seconds: float) -> None:
    """Record how long one extractor batch took."""
    _EXTRACTION.observe(seconds)


@contextmanager
def timed_extraction() -> Iterator[None]:
    """Time the block as one extractor batch."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _EXTRACTION.observe(time.perf_counter() - started)


def loop_lag(seconds: float) -> None:
    """Set the latest measured event loop lag."""
    _LOOP_LAG.set(seconds)


def platform_connected(platform: str, connected: bool) -> None:
    """Set whether a chat platform is connected."""
    _CONNECTED.labels(_label(platform)).set(1 if connected else 0)


def render() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
