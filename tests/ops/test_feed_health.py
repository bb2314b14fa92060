"""Feed counts in words and in /healthz: nothing reachable must not look like "ok"."""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.core.errors import ConfigError
from bot.core.models import FeedInfo
from bot.ingest.poll import CycleReport
from bot.ops.health import HealthServer
from bot.ops.summary import FeedHealth, cycle_summary, feed_health

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def feed(feed_id: int, *, failures: int = 0, ok: bool = True, disabled: bool = False) -> FeedInfo:
    return FeedInfo(
        id=feed_id,
        url=f"https://example.org/{feed_id}",
        title=None,
        consecutive_failures=failures,
        last_error="connection failed: refused" if failures else None,
        disabled_reason="10 failures in a row" if disabled else None,
        last_success_at=NOW if ok else None,
    )


def test_summary_counts_answered_failed_by_reason_and_disabled() -> None:
    report = CycleReport(
        outcomes=Counter({"failed": 3, "not_modified": 1, "new": 1}),
        failures=Counter({"connection failed": 2, "timeout": 1}),
        new_items=4,
        errors={"https://example.org/1": "connection failed: refused"},
        seconds=2.0,
    )
    text = cycle_summary(report, [feed(1, failures=1), feed(2), feed(3, disabled=True)])
    first = text.splitlines()[0]
    assert first == (
        "polled 5 feed(s) in 2.0 s: 2 answered, 3 failed (2 connection failed, 1 timeout), "
        "1 disabled; 4 new item(s) announced"
    )
    assert "no feed answered" not in text
    assert "  failed: https://example.org/1: connection failed: refused" in text


def test_summary_says_when_no_feed_answered() -> None:
    report = CycleReport(
        outcomes=Counter({"failed": 17}), failures=Counter({"connection failed": 17})
    )
    text = cycle_summary(report, [feed(i, failures=1, ok=False) for i in range(17)])
    assert "0 answered, 17 failed (17 connection failed), 0 disabled" in text
    assert "no feed answered: check the network" in text


def test_feed_health_counts() -> None:
    counts = feed_health([feed(1), feed(2, failures=2), feed(3, disabled=True), feed(4, ok=False)])
    assert counts == FeedHealth(total=4, answering=1, failing=1, disabled=1)
    assert not counts.none_answering
    assert feed_health([feed(1, failures=1, ok=False), feed(2, disabled=True)]).none_answering
    assert not feed_health([]).none_answering
    assert not feed_health([feed(1, ok=False)]).none_answering  # not polled yet


async def healthz(counts: FeedHealth) -> tuple[int, dict[str, object]]:
    async def database() -> None:
        return None

    async def feeds() -> FeedHealth:
        return counts

    server = HealthServer(
        0, host="127.0.0.1", database=database, scheduler_running=lambda: True, feeds=feeds
    )
    async with server, aiohttp.ClientSession() as session:
        response = await session.get(f"http://127.0.0.1:{server.port}/healthz")
        async with response:
            return response.status, json.loads(await response.text())


async def test_healthz_is_degraded_with_the_count_when_no_feed_answers() -> None:
    status, body = await healthz(FeedHealth(total=17, answering=0, failing=17, disabled=0))
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["feeds"] == {  # type: ignore[index]
        "ok": False,
        "total": 17,
        "answering": 0,
        "failing": 17,
        "disabled": 0,
    }
    status, body = await healthz(FeedHealth(total=17, answering=1, failing=16, disabled=0))
    assert status == 200
    assert body["status"] == "ok"


async def test_a_taken_port_is_one_clear_error() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]

    async def database() -> None:
        return None

    server = HealthServer(port, host="127.0.0.1", database=database, scheduler_running=lambda: True)
    try:
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}.*NEWSBOT_HEALTH_PORT"):
            await server.start()
    finally:
        await server.close()
        taken.close()
