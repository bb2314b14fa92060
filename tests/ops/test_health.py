"""The health and metrics endpoint on 127.0.0.1: every check can fail on its own."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bot.ops import metrics
from bot.ops.health import HealthServer, LoopMonitor


class Probes:
    """The callables the composition root hands in, switchable by the test."""

    def __init__(self) -> None:
        self.database_error: Exception | None = None
        self.database_hangs = False
        self.scheduler = True
        self.connected = {"discord": True}

    async def database(self) -> None:
        if self.database_hangs:
            await asyncio.sleep(30)
        if self.database_error is not None:
            raise self.database_error

    def running(self) -> bool:
        return self.scheduler

    def platforms(self) -> dict[str, bool]:
        return dict(self.connected)

    async def depth(self) -> int:
        return 7


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


def server(probes: Probes, **kwargs: float) -> HealthServer:
    return HealthServer(
        0,
        host="127.0.0.1",
        database=probes.database,
        scheduler_running=probes.running,
        platforms=probes.platforms,
        outbox_depth=probes.depth,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_healthz_is_200_with_platforms_then_503_naming_each_failing_check() -> None:
    probes = Probes()
    async with server(probes, check_timeout=0.2) as health:
        status, content_type, body = await get(health.port, "/healthz")
        assert status == 200, body
        assert content_type.startswith("application/json")
        assert '"platforms": {"discord": true}' in body

        probes.scheduler = False
        status, _, body = await get(health.port, "/healthz")
        assert status == 503
        assert '"scheduler": {"ok": false}' in body

        probes.scheduler = True
        probes.database_error = OSError("connect to postgresql://bot:hunter2@db failed")
        status, _, body = await get(health.port, "/healthz")
        assert status == 503
        assert '"error": "OSError"' in body
        assert "hunter2" not in body

        probes.database_error = None
        probes.database_hangs = True
        status, _, body = await get(health.port, "/healthz")
        assert status == 503
        assert "no answer within 0.2 s" in body


async def test_a_blocked_event_loop_is_reported_after_it_recovers() -> None:
    probes = Probes()
    monitor = LoopMonitor(interval=0.05)
    async with server(probes, max_lag=0.3, monitor=monitor) as health:
        await asyncio.sleep(0.15)
        assert monitor.current_lag() < 0.3
        time.sleep(0.6)  # a synchronous call that wedges the loop
        status, _, body = await get(health.port, "/healthz")
        assert status == 503, body
        assert '"event_loop": {"lag_seconds"' in body
        await asyncio.sleep(0.2)
        status, _, _ = await get(health.port, "/healthz")
        assert status == 200


async def test_metrics_are_prometheus_text_with_every_family() -> None:
    metrics.poll("not_modified")
    metrics.poll("new")
    metrics.fetch_failure("FetchError")
    metrics.items(3, summit=1)
    metrics.summit_story("new")
    metrics.delivery("discord", "sent")
    metrics.extraction(0.3)
    with metrics.timed_extraction():
        pass
    async with server(Probes()) as health:
        status, content_type, body = await get(health.port, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    for line in (
        'newsbot_polls_total{outcome="not_modified"}',
        "newsbot_not_modified_total",
        'newsbot_fetch_failures_total{reason="fetcherror"}',
        "newsbot_items_total",
        "newsbot_summit_items_total",
        'newsbot_summit_stories_total{kind="new"}',
        'newsbot_deliveries_total{outcome="sent",platform="discord"}',
        "newsbot_outbox_depth 7.0",
        "newsbot_extraction_seconds_bucket",
        "newsbot_event_loop_lag_seconds",
    ):
        assert line in body, line
    assert "_created" not in body


def test_label_values_stay_a_small_fixed_shape() -> None:
    metrics.fetch_failure("http://example.org/feed?x=1 timed out after 20 s and more text here")
    body = metrics.render()[0].decode()
    assert "http://" not in body
