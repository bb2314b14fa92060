"""Crash soak: ``kill -9`` the real ``newsbot run`` at every stage, then count every alert.

    .venv/bin/python benchmarks/crash_soak.py                      # SQLite, Discord and Slack
    NEWSBOT_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:55441/postgres \\
        .venv/bin/python benchmarks/crash_soak.py --rounds 1          # PostgreSQL too

Each platform and backend gets ``rounds`` passes over the seven kill stages (fetch, article,
analysis, insert, send, answered, recovery) against ten channels (one hung, one rate-limited,
one gone) on a fake platform on 127.0.0.1; see tests/delivery/crashrig.py for what each stage
means. Prints per run: kills, alerts expected, lost, doubled, seconds from the last start to
the last alert, and how far apart (seconds) one story's alerts landed in the healthy channels.
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

from tests.delivery.crashrig import STAGES, Result, Soak


async def fresh_postgres(server: str) -> str:
    """A new empty database on the server ``NEWSBOT_TEST_POSTGRES_URL`` names."""
    name = f"soak_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


async def main() -> int:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # resets by the kills
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="passes over the seven stages")
    parser.add_argument("--platform", choices=["discord", "slack"], action="append")
    arguments = parser.parse_args()
    platforms = arguments.platform or ["discord", "slack"]
    postgres = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")
    backends = ["sqlite", *(["postgresql"] if postgres else [])]
    if not postgres:
        print("NEWSBOT_TEST_POSTGRES_URL unset: SQLite only", file=sys.stderr)
    results: list[Result] = []
    started = time.monotonic()
    for backend in backends:
        for platform in platforms:
            with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as work:
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{Path(work) / 'newsbot.db'}"
                else:
                    assert postgres is not None
                    url = await fresh_postgres(postgres)
                soak = Soak(platform, url, Path(work), list(STAGES) * arguments.rounds)
                result = await soak.run(lambda line: print("  " + line, flush=True))
                print(result.line(), flush=True)
                print(f"  last post per channel, s after the last start: {result.last_by_channel}")
                if result.lost or result.doubled:
                    print(f"  lost {result.lost}\n  doubled {result.doubled}")
                    print(result.log_tail)
                results.append(result)
    kills = sum(sum(r.kills.values()) for r in results)
    lost = sum(len(r.lost) for r in results)
    doubled = sum(len(r.doubled) for r in results)
    slowest = max(r.deliver_after_restart for r in results)
    spread = max(r.max_spread for r in results)
    print(
        f"\nTOTAL {kills} kills, {sum(r.expected for r in results)} alerts expected: "
        f"{lost} lost, {doubled} doubled; slowest final delivery {slowest:.1f} s after the "
        f"restart (limit 60 s); healthy channels within {spread:.2f} s of each other "
        f"(limit 2 s); {time.monotonic() - started:.0f} s in all"
    )
    return 0 if not lost and not doubled and slowest <= 60 and spread <= 2 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
