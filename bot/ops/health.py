"""``/healthz`` and ``/metrics`` on one small aiohttp server (port: ``NEWSBOT_HEALTH_PORT``).

``/healthz`` answers 200 only while three things hold: the event loop is responsive (a ticker
measures how late its sleeps wake up), the database answers a trivial query, and the poll
scheduler runs. Anything else is a 503 with the failing check named, so an orchestrator restarts
a wedged process instead of a merely busy one. When feeds are watched but not one answers (no
network, a proxy), the status is ``degraded`` with the counts: still 200, since a restart
would not bring the network back, but visible to whoever looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType

from aiohttp import web

from bot.core.errors import ConfigError
from bot.ops import metrics
from bot.ops.summary import FeedHealth

log = logging.getLogger(__name__)

DatabaseCheck = Callable[[], Awaitable[object]]
Running = Callable[[], bool]
Platforms = Callable[[], Mapping[str, bool]]
OutboxDepth = Callable[[], Awaitable[int]]
StorageProblem = Callable[[], str | None]
FeedCounts = Callable[[], Awaitable[FeedHealth]]


class LoopMonitor:
    """Measures event loop lag: how much later than asked a short sleep wakes up."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.lag = 0.0
        self._last_tick = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start ticking on the running loop."""
        self._last_tick = time.monotonic()
        self._task = asyncio.create_task(self._tick(), name="newsbot:loop-monitor")

    async def stop(self) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def current_lag(self) -> float:
        """The worst of the last measured lag and the time since the last tick was due."""
        overdue = time.monotonic() - self._last_tick - self.interval
        return max(self.lag, overdue, 0.0)

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self.lag = max(now - before - self.interval, 0.0)
            self._last_tick = now
            metrics.loop_lag(self.lag)


class HealthServer:
    """The operations endpoint; every check is a callable handed in by the composition root."""

    def __init__(
        self,
        port: int,
        *,
        database: DatabaseCheck,
        scheduler_running: Running,
        platforms: Platforms = dict,
        outbox_depth: OutboxDepth | None = None,
        storage_problem: StorageProblem | None = None,
        feeds: FeedCounts | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - the container's port must be reachable
        max_lag: float = 5.0,
        check_timeout: float = 3.0,
        monitor: LoopMonitor | None = None,
    ) -> None:
        self._port = port
        self._host = host
        self._database = database
        self._scheduler_running = scheduler_running
        self._platforms = platforms
        self._outbox_depth = outbox_depth
        self._storage_problem = storage_problem
        self._feeds = feeds
        self._max_lag = max_lag
        self._timeout = check_timeout
        self.monitor = monitor or LoopMonitor()
        self._runner: web.AppRunner | None = None
        self._bound = port

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0 in tests)."""
        return self._bound

    async def start(self) -> None:
        """Start the loop monitor and listen."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                f"cannot listen for /healthz on {self._host}:{self._port} ({exc.strerror}): stop "
                "what uses that port, or set health_port (NEWSBOT_HEALTH_PORT) to a free one"
            ) from exc
        for address in self._runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self._bound = int(address[1])
                break
        self.monitor.start()
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self._host, self.port)

    async def close(self) -> None:
        """Stop listening and stop the monitor."""
        await self.monitor.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def report(self) -> tuple[bool, dict[str, object]]:
        """Run every check: (healthy, the JSON body)."""
        lag = self.monitor.current_lag()
        loop_ok = lag <= self._max_lag
        database_ok, database_error = await self._check_database()
        scheduler_ok = self._safe_running()
        platforms = dict(self._safe_platforms())
        for name, connected in platforms.items():
            metrics.platform_connected(name, connected)
        healthy = loop_ok and database_ok and scheduler_ok
        database: dict[str, object] = {"ok": database_ok}
        if database_error:
            database["error"] = database_error
        checks: dict[str, object] = {
            "event_loop": {"ok": loop_ok, "lag_seconds": round(lag, 3)},
            "database": database,
            "scheduler": {"ok": scheduler_ok},
        }
        # Writes failing (e.g. a full disk) while reads work: degraded, still 200, since a
        # restart would not free the disk.
        problem = self._storage_problem() if self._storage_problem is not None else None
        if problem is not None:
            checks["storage"] = {"ok": False, "error": problem}
        counts = await self._feed_counts() if database_ok else None
        if counts is not None:
            checks["feeds"] = {
                "ok": not counts.none_answering,
                "total": counts.total,
                "answering": counts.answering,
                "failing": counts.failing,
                "disabled": counts.disabled,
            }
        degraded = problem is not None or (counts is not None and counts.none_answering)
        status = "unhealthy" if not healthy else "degraded" if degraded else "ok"
        body: dict[str, object] = {"status": status, "checks": checks, "platforms": platforms}
        return healthy, body

    async def _feed_counts(self) -> FeedHealth | None:
        if self._feeds is None:
            return None
        try:
            return await asyncio.wait_for(self._feeds(), self._timeout)
        except Exception as exc:
            log.warning("health check: feed counts unavailable (%s)", type(exc).__name__)
            return None

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, body = await self.report()
        return web.Response(
            text=json.dumps(body, sort_keys=True),
            status=200 if healthy else 503,
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._outbox_depth is not None:
            try:
                depth = await asyncio.wait_for(self._outbox_depth(), self._timeout)
            except Exception as exc:
                # The scrape still answers: a stale gauge beats a missing page of counters.
                log.warning("outbox depth unavailable for /metrics: %s", type(exc).__name__)
            else:
                metrics.outbox_depth(depth)
        body, content_type = metrics.render()
        response = web.Response(body=body)
        # aiohttp refuses a charset inside content_type=, so the header is set whole.
        response.headers["Content-Type"] = content_type
        return response

    async def _check_database(self) -> tuple[bool, str | None]:
        try:
            await asyncio.wait_for(self._database(), self._timeout)
        except TimeoutError:
            return False, f"no answer within {self._timeout:g} s"
        except Exception as exc:
            # The type only: a driver's message may quote the connection URL.
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return False, type(exc).__name__
        return True, None

    def _safe_running(self) -> bool:
        try:
            return bool(self._scheduler_running())
        except Exception:
            log.exception("health check: scheduler probe failed")
            return False

    def _safe_platforms(self) -> Mapping[str, bool]:
        try:
            return self._platforms()
        except Exception:
            log.exception("health check: platform probe failed")
            return {}
