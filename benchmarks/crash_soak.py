"""Crash soak: ``kill -9`` the real ``newsbot run`` at every stage, then count every alert.

    .venv/bin/python benchmarks/crash_soak.py                      # SQLite, Discord and Slack
    NEWSBOT_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:55441/postgres \\
        .venv/bin/python benchmarks/crash_soak.py --rounds 1          # PostgreSQL too
    .venv/bin/python benchmarks/crash_soak.py --platform terminal --rounds 3   # 24 kills each

Each platform and backend gets ``rounds`` passes over the seven kill stages (fetch, article,
analysis, insert, send, answered, recovery) against ten channels (one hung, one rate-limited,
one gone) on a fake platform on 127.0.0.1; see tests/delivery/crashrig.py for what each stage
means. Prints per run: kills, alerts expected, lost, doubled, seconds from the last start to
the last alert, and how far apart (seconds) one story's alerts landed in the healthy channels,
also less each channel's own pacing of the posts it got before (Slack: one per second per
channel), which is what the hung and rate-limited channels must not add to (2 s at most).

``--platform terminal`` runs ``newsbot run --show-all`` with no chat token instead and kills
it at eight stages (fetch, article, analysis, stored, recovery, filed, recorded, printing; see
tests/delivery/termrig.py); it prints kills, items, blocks printed, lost, doubled and torn.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.delivery import termrig
from tests.delivery.crashrig import STAGES, Result, Soak


async def fresh_postgres(server: str) -> str:
    """A new empty database on the server ``NEWSBOT_TEST_POSTGRES_URL`` names."""
    name = f"soak_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


async def database(backend: str, work: Path, postgres: str | None) -> str:
    """The URL of a fresh database of the backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{work / 'newsbot.db'}"
    assert postgres is not None
    return await fresh_postgres(postgres)


async def terminal(backends: list[str], postgres: str | None, stages: list[str]) -> int:
    """The terminal soak on each backend; 0 when nothing was lost, doubled or torn."""
    results: list[termrig.TerminalResult] = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as work:
            url = await database(backend, Path(work), postgres)
            soak = termrig.TerminalSoak(url, Path(work), stages)
            result = await soak.run(lambda line: print("  " + line, flush=True))
            print(result.line(), flush=True)
            if result.lost or result.doubled or result.torn or result.missed_triggers:
                print(f"  lost {result.lost}\n  doubled {result.doubled}\n  torn {result.torn}")
                print(result.log_tail)
            results.append(result)
    failed = sum(len(r.lost) + len(r.doubled) + len(r.torn) for r in results)
    print(
        f"\nTOTAL terminal: {sum(sum(r.kills.values()) for r in results)} kills, "
        f"{sum(r.items for r in results)} items, {sum(r.blocks for r in results)} blocks: "
        f"{sum(len(r.lost) for r in results)} lost, {sum(len(r.doubled) for r in results)} "
        f"doubled, {sum(len(r.torn) for r in results)} torn"
    )
    return 0 if not failed else 1


async def main() -> int:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # resets by the kills
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="passes over the kill stages")
    parser.add_argument("--platform", choices=["discord", "slack", "terminal"], action="append")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--stages", help="comma-separated kill stages instead of all of them")
    arguments = parser.parse_args()
    chosen = arguments.stages.split(",") if arguments.stages else None
    platforms = arguments.platform or ["discord", "slack"]
    postgres = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")
    backends = arguments.backend or ["sqlite", *(["postgresql"] if postgres else [])]
    if "postgresql" in backends and not postgres:
        parser.error("--backend postgresql needs NEWSBOT_TEST_POSTGRES_URL")
    if not postgres:
        print("NEWSBOT_TEST_POSTGRES_URL unset: SQLite only", file=sys.stderr)
    started = time.monotonic()
    status = 0
    if "terminal" in platforms:
        status = await terminal(
            backends, postgres, (chosen or list(termrig.STAGES)) * arguments.rounds
        )
        platforms = [p for p in platforms if p != "terminal"]
    results: list[Result] = []
    for backend in backends:
        for platform in platforms:
            with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as work:
                url = await database(backend, Path(work), postgres)
                soak = Soak(platform, url, Path(work), (chosen or list(STAGES)) * arguments.rounds)
                result = await soak.run(lambda line: print("  " + line, flush=True))
                print(result.line(), flush=True)
                print(f"  last post per channel, s after the last start: {result.last_by_channel}")
                print(f"  widest spread: {result.widest}")
                if result.lost or result.doubled:
                    print(f"  lost {result.lost}\n  doubled {result.doubled}")
                    print(result.log_tail)
                results.append(result)
    if not results:
        print(f"{time.monotonic() - started:.0f} s in all")
        return status
    kills = sum(sum(r.kills.values()) for r in results)
    lost = sum(len(r.lost) for r in results)
    doubled = sum(len(r.doubled) for r in results)
    slowest = max(r.deliver_after_restart for r in results)
    spread = max(r.max_spread for r in results)
    paced = max(r.paced_spread for r in results)
    print(
        f"\nTOTAL {kills} kills, {sum(r.expected for r in results)} alerts expected: "
        f"{lost} lost, {doubled} doubled; slowest final delivery {slowest:.1f} s after the "
        f"restart (limit 60 s); healthy channels within {spread:.2f} s of each other, "
        f"{paced:.2f} s less each channel's own pacing (limit 2 s); "
        f"{time.monotonic() - started:.0f} s in all"
    )
    return status or (0 if not lost and not doubled and slowest <= 60 and paced <= 2 else 1)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
