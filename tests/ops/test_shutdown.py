"""SIGTERM while a delivery is in flight: the real `newsbot run` finishes it, and a restart
neither loses nor repeats an alert.

The terminal destination prints alerts to stdout. stdout is a pipe shrunk to one page that the
test stops reading, so the bot blocks inside a console write (the terminal writes a row as its
record as sent commits, so a crash can never print it twice): that is the moment SIGTERM
arrives.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import sqlite3
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.feeds import free_port, serve, summit_feed

ROOT = Path(__file__).resolve().parents[2]
PIPE_PAGE = 4096
BLOCK = re.compile(r"^── (NEW SUMMIT STORY|SUMMIT STORY UPDATE) #(\d+) ", re.MULTILINE)


@pytest.fixture
def feed_url(shared_dir: Path) -> Iterator[str]:
    with serve(summit_feed(shared_dir / "corpus" / "dev" / "dev.jsonl")) as url:
        yield url


def environment(tmp_path: Path, feed_url: str) -> dict[str, str]:
    (tmp_path / "feeds.toml").write_text(f'[[feeds]]\nurl = "{feed_url}"\n', encoding="utf-8")
    return {
        **os.environ,
        "NEWSBOT_ALLOW_HOSTS": "127.0.0.1",
        "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        "NEWSBOT_FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "NEWSBOT_POLL__FIRST_POLL_ANNOUNCE": "100",
        "NEWSBOT_NLP__FETCH_ARTICLES": "false",
        "NEWSBOT_PARSE__WORKERS": "1",
        "NEWSBOT_HEALTH_PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }


def outbox(db: Path) -> Counter[str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return Counter(
                dict(connection.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
            )
    except sqlite3.OperationalError:  # not migrated yet
        return Counter()


def writing(pid: int) -> bool:
    """Whether a thread of the process is blocked writing to a pipe (its kernel wait channel).

    The terminal's write runs in the database driver's thread, right after the commit.
    """
    return any(
        "pipe_write" in wchan.read_text(errors="replace")
        for wchan in Path(f"/proc/{pid}/task").glob("*/wchan")
    )


def unread(fd: int) -> int:
    """Bytes waiting in a pipe."""
    size = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, size)
    return int.from_bytes(size, sys.byteorder)


@pytest.mark.slow
def test_sigterm_with_a_delivery_in_flight_loses_and_doubles_nothing(
    tmp_path: Path, feed_url: str
) -> None:
    env = environment(tmp_path, feed_url)
    db = tmp_path / "newsbot.db"
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert bot.stdout is not None
    assert bot.stderr is not None
    fcntl.fcntl(bot.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_PAGE)
    errors: list[bytes] = []
    threading.Thread(target=lambda: errors.extend(bot.stderr or []), daemon=True).start()
    try:
        # 1) wait until the bot is stuck in a notifier write with a row claimed
        deadline = time.monotonic() + 240
        blocked_since: float | None = None
        last_unread = -1
        while True:
            assert bot.poll() is None, b"".join(errors).decode()[-3000:]
            assert time.monotonic() < deadline, (
                f"no delivery was ever in flight; outbox {outbox(db)}, "
                f"{unread(bot.stdout.fileno())} bytes unread\n" + b"".join(errors).decode()[-3000:]
            )
            # A sent row, and a thread in a pipe write for a second with the pipe
            # unchanged: the bot is blocked inside a console write (one otherwise takes
            # microseconds; a bot busy analysing while a few blocks wait is not blocked).
            waiting = unread(bot.stdout.fileno())
            stuck = outbox(db)["sent"] > 0 and waiting > 0 and writing(bot.pid)
            if not stuck or waiting != last_unread:
                blocked_since = None
            elif blocked_since is None:
                blocked_since = time.monotonic()
            elif time.monotonic() - blocked_since > 1.0:
                break
            last_unread = waiting
            time.sleep(0.1)
        in_flight = outbox(db)
        pending_at_signal = in_flight["pending"] + in_flight["sending"]

        # 2) SIGTERM while it is stuck; it must not die mid-write
        bot.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert bot.poll() is None, "the bot quit with a delivery half written"

        # 3) let the write finish; the bot stops on its own
        printed = bot.stdout.read().decode()
        assert bot.wait(timeout=120) == 0, b"".join(errors).decode()[-3000:]
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    log = b"".join(errors).decode()
    after_stop = outbox(db)
    assert after_stop["sending"] == 0, f"{after_stop}: a row was abandoned mid-send\n{log[-2000:]}"
    assert sum(after_stop.values()) >= pending_at_signal

    # 4) restart: rows left pending are sent now; nothing already printed is printed again
    again = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--once"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    final = outbox(db)
    assert set(final) == {"sent"}, final

    blocks = BLOCK.findall(printed + again.stdout)
    digests = printed.count("── Summit stories") + again.stdout.count("── Summit stories")
    assert blocks, printed[:2000]
    assert len(blocks) == len(set(blocks)), f"an alert was printed twice: {Counter(blocks)}"
    assert len(blocks) + digests == final["sent"], (
        f"{len(blocks)} alerts and {digests} digest(s) printed, {final['sent']} rows sent"
    )
