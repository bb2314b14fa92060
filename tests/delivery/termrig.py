"""The terminal crash rig: the real ``newsbot run --show-all`` (no chat token), ``kill -9``-ed.

The feed, its article pages, the kill and the database helpers are the Discord/Slack rig's
(tests/delivery/crashrig.py). Each life of the bot gets one more summit story and two
ordinary items in the feed and is killed at one stage:

- ``fetch``, ``article``, ``analysis``: as in the chat rig;
- ``stored``: as soon as new items are committed (analysis and announcing follow);
- ``recovery``: as soon as the restart announces what an earlier life left, or prints anything;
- ``filed``: as soon as a story event is committed (its outbox row and print follow);
- ``recorded``: as soon as an item or an outbox row is committed as announced or sent;
- ``printing``: as soon as any new output appears.

Every third life writes its stdout to a file, the others to a pipe the rig reads. The last
life is not killed until everything was announced. The rig then compares the output with the
database: "lost" is an announced item or sent alert or digest never printed in full, or a
served item never announced at all; "doubled" is anything printed twice; "torn" is a block
cut off (no blank line after it) or run into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.store import Store
from tests.delivery.crashrig import (
    ORDINARY,
    Site,
    Trigger,
    bot_env,
    due_now,
    kill,
    serve,
)

STAGES = ("fetch", "article", "analysis", "stored", "recovery", "filed", "recorded", "printing")
FILE_EVERY = 3
LEFT_OVER = "left from an earlier run"
SQL = {
    "stored": "SELECT count(*) FROM items",
    "filed": "SELECT count(*) FROM story_events",
    "recorded": "SELECT (SELECT count(*) FROM items WHERE NOT pending)"
    " + (SELECT count(*) FROM outbox WHERE status = 'sent')",
}


@dataclass
class TerminalResult:
    """What one terminal soak measured."""

    backend: str
    kills: Counter[str] = field(default_factory=Counter)
    missed_triggers: Counter[str] = field(default_factory=Counter)
    items: int = 0
    blocks: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log_tail: str = ""

    def line(self) -> str:
        return (
            f"terminal {self.backend:10} kills {sum(self.kills.values()):3} "
            f"items {self.items:3} blocks printed {self.blocks:3} lost {len(self.lost)} "
            f"doubled {len(self.doubled)} torn {len(self.torn)} in {self.seconds:.0f} s"
            + (f", missed triggers {dict(self.missed_triggers)}" if self.missed_triggers else "")
        )


@dataclass
class Block:
    """One printed block: what it announces, and in which life it was printed."""

    kind: str  # "item", "new", "update", "digest", "notice" or "torn"
    what: str  # the item's link, the story id, the digest's title
    life: int


def blocks_of(output: str, life: int) -> list[Block]:
    """Split one life's output into blocks; a block without its closing blank line is torn."""
    *whole, rest = output.split("\n\n")
    found = [classify(block, life) for block in whole]
    if rest:
        found.append(Block("torn", rest[:80], life))
    return found


def classify(block: str, life: int) -> Block:
    lines = block.split("\n")
    head = lines[0]
    if sum(line.startswith("── ") for line in lines) != 1 and not head.startswith("! "):
        return Block("torn", block[:80], life)
    for label, kind in (("── NEW SUMMIT STORY #", "new"), ("── SUMMIT STORY UPDATE #", "update")):
        if head.startswith(label):
            return Block(kind, head[len(label) :].split(" ", 1)[0], life)
    if head.startswith("── Wire · "):
        if len(lines) < 4:  # header, title, link, summary
            return Block("torn", block[:80], life)
        return Block("item", lines[2], life)
    if head.startswith("! "):
        return Block("notice", head, life)
    return Block("digest", head.strip("─ "), life)


class TerminalSoak:
    """One database, a list of kill stages, the terminal as the only destination."""

    def __init__(self, database_url: str, work: Path, stages: list[str]) -> None:
        self.trigger = Trigger()
        self.site = Site(self.trigger)
        self.database_url = database_url
        self.work = work
        self.stages = stages
        self.result = TerminalResult("postgresql" if "postgresql" in database_url else "sqlite")
        self.log = work / "bot.log"
        self.bot: asyncio.subprocess.Process | None = None
        self.outputs: dict[int, bytearray] = {}
        self.life = 0
        self._engine: AsyncEngine | None = None
        self._reader: asyncio.Task[None] | None = None

    async def run(self, progress: Callable[[str], None] = lambda _: None) -> TerminalResult:
        started = time.monotonic()
        runner, port = await serve(self.site.app)
        self.site.base = f"http://127.0.0.1:{port}"
        self._engine = create_async_engine(self.database_url)
        try:
            await self._prepare()
            for number, stage in enumerate(self.stages):
                self._add_entries(number)
                await self._life(stage)
                progress(f"terminal/{self.result.backend}: killed at {stage}")
            self._add_entries(len(self.stages))
            await self._last_life()
            await self._check()
        finally:
            await self._stop()
            await self._engine.dispose()
            await runner.cleanup()
        self.result.seconds = time.monotonic() - started
        return self.result

    def _add_entries(self, number: int) -> None:
        self.site.stories += [number, ORDINARY + 2 * number, ORDINARY + 2 * number + 1]

    async def _prepare(self) -> None:
        store = await Store.open(self.database_url)
        try:
            await store.add_feed(f"{self.site.base}/feed.xml", datetime.now(UTC), title="Wire")
        finally:
            await store.close()

    async def _count(self, sql: str) -> int:
        assert self._engine is not None
        async with self._engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar() or 0)

    async def _start(self) -> None:
        await due_now(self.database_url)
        self.life += 1
        self.outputs[self.life] = bytearray()
        log = self.log.open("ab")
        stdout: IO[bytes] | int = asyncio.subprocess.PIPE
        if self.life % FILE_EVERY == 0:
            stdout = (self.work / f"stdout-{self.life}.txt").open("wb")
        self.bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--show-all",
            cwd=self.work,
            env=bot_env(self.database_url, self.work),
            stdout=stdout,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        if not isinstance(stdout, int):
            stdout.close()
            self._reader = asyncio.create_task(self._follow_file(self.life))
        else:
            assert self.bot.stdout is not None
            self._reader = asyncio.create_task(self._follow_pipe(self.life, self.bot.stdout))

    async def _follow_pipe(self, life: int, pipe: asyncio.StreamReader) -> None:
        while chunk := await pipe.read(65536):
            self._printed(life, chunk)

    async def _follow_file(self, life: int) -> None:
        path = self.work / f"stdout-{life}.txt"
        with path.open("rb") as handle:
            handle.seek(len(self.outputs[life]))
            while True:
                chunk = handle.read()
                if chunk:
                    self._printed(life, chunk)
                elif self.bot is None or self.bot.returncode is not None:
                    return
                else:
                    await asyncio.sleep(0.005)

    def _printed(self, life: int, chunk: bytes) -> None:
        self.outputs[life] += chunk
        self.trigger.fire("printing")
        self.trigger.fire("recovery")

    async def _stop(self) -> None:
        """Kill the bot, then read what it printed to the end."""
        bot, self.bot = self.bot, None
        await kill(bot)
        if self._reader is not None:
            if bot is not None and bot.stdout is None:
                self._reader.cancel()  # a file: read what is left once more
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader
                await self._follow_file(self.life)
            else:
                await self._reader
        self._reader = None

    async def _watch(self, stage: str, sql: str | None, before: int, log_start: int) -> None:
        """Fire the trigger for the stages seen in the database or the log."""
        while not self.trigger.fired.is_set():
            if sql and await self._count(sql) > before:
                self.trigger.fire(stage)
            if stage == "recovery":
                with self.log.open("rb") as handle:
                    handle.seek(log_start)
                    if LEFT_OVER.encode() in handle.read():
                        self.trigger.fire(stage)
            await asyncio.sleep(0.01)

    async def _life(self, stage: str) -> None:
        self.trigger.stage = stage
        self.trigger.fired = asyncio.Event()
        sql = SQL.get(stage)
        before = await self._count(sql) if sql else 0
        log_start = self.log.stat().st_size if self.log.exists() else 0
        await self._start()
        watch = asyncio.create_task(self._watch(stage, sql, before, log_start))
        try:
            await asyncio.wait_for(self.trigger.fired.wait(), 90)
        except TimeoutError:
            self.result.missed_triggers[stage] += 1
        await self._stop()
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        self.result.kills[stage] += 1
        self.trigger.stage = ""

    async def _last_life(self) -> None:
        self.trigger.stage = ""
        await self._start()
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not await self._settled():
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # anything that would double shows up now
        await self._stop()
        self.result.log_tail = self.log.read_text(errors="replace")[-4000:]

    async def _settled(self) -> bool:
        """Every served entry announced and nothing left in the outbox."""
        announced = await self._count("SELECT count(*) FROM items WHERE NOT pending")
        unfinished = await self._count(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
        )
        return announced >= len(self.site.stories) and unfinished == 0

    async def _rows(self, sql: str) -> list[tuple[str, ...]]:
        assert self._engine is not None
        async with self._engine.connect() as connection:
            rows = await connection.execute(text(sql))
            return [tuple("" if value is None else str(value) for value in row) for row in rows]

    async def _check(self) -> None:
        result = self.result
        blocks = [
            block
            for life, output in self.outputs.items()
            for block in blocks_of(output.decode("utf-8", errors="replace"), life)
        ]
        result.blocks = len(blocks)
        result.torn = [f"life {b.life}: {b.what!r}" for b in blocks if b.kind == "torn"]
        printed = Counter((b.kind, b.what) for b in blocks if b.kind != "torn")

        served = {f"{self.site.base}/article/{number}" for number in self.site.stories}
        result.items = len(served)
        items = await self._rows(
            "SELECT items.link, items.pending, analyses.is_summit, story_sources.story_id "
            "FROM items LEFT JOIN analyses ON analyses.item_id = items.id "
            "LEFT JOIN story_sources ON story_sources.item_id = items.id"
        )
        stored = {link: (pending, summit, story) for link, pending, summit, story in items}
        expected: Counter[tuple[str, str]] = Counter()
        for link in sorted(served):
            if link not in stored or stored[link][0] in ("1", "True", "true"):
                result.lost.append(f"never announced: {link}")
                continue
            _, summit, story = stored[link]
            if summit in ("1", "True", "true"):
                if not story:
                    result.lost.append(f"summit item in no story: {link}")
                    continue
                expected[("new", story)] = 1
            else:
                expected[("item", link)] = 1
        sent = await self._rows(
            "SELECT outbox.kind, story_events.kind, story_events.story_id FROM outbox "
            "JOIN destinations ON destinations.id = outbox.destination_id "
            "LEFT JOIN story_events ON story_events.id = outbox.event_id "
            "WHERE destinations.platform = 'console' AND outbox.status = 'sent'"
        )
        for row_kind, event_kind, story in sent:
            if row_kind == "digest":
                expected[("digest", "")] += 1
            elif event_kind == "update":
                expected[("update", story)] += 1
            else:
                expected[("new", story)] = 1
        got = Counter(
            ("digest", "") if kind == "digest" else (kind, what)
            for kind, what in printed.elements()
            if kind != "notice"
        )
        for key in sorted(set(expected) | set(got)):
            label = f"{key[0]} {key[1]}".strip()
            if got[key] < expected[key]:
                result.lost.append(f"{label}: printed {got[key]} of {expected[key]}")
            elif got[key] > expected[key]:
                result.doubled.append(f"{label}: printed {got[key]}, recorded {expected[key]}")
