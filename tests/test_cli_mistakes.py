"""Every operator mistake of issue 12: one line naming the fix, exit 1 or 2, no traceback.

Each test runs the real entry point (``python -m bot``) in a subprocess with a clean
environment, exactly as an operator would meet it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import Validators
from bot.storage.store import Store
from tests.ops.feeds import free_port, serve

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "bot" / "ops" / "entrypoint.sh"
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loopback Wire</title><link>http://example.org/</link>
<item><title>Leaders meet in Hanoi</title><link>http://example.org/1</link><guid>1</guid></item>
</channel></rss>"""


def unprivileged() -> list[str]:
    """Run as nobody when we are root: root writes through any permission bits."""
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if is_root() else []


def is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory nobody can reach (pytest's own tmp is 0700 root), with a data/ inside."""
    path = Path(tempfile.mkdtemp(prefix="newsbot-mistake."))
    path.chmod(0o755)
    (path / "data").mkdir(mode=0o555)
    (path / "data").chmod(0o555)
    yield path
    (path / "data").chmod(0o755)
    shutil.rmtree(path)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'newsbot.db'}",
        "NEWSBOT_FEEDS_FILE": str(tmp_path / "no-default-feeds.toml"),
    }
    env.update(extra)
    return env


def newsbot(
    tmp_path: Path, *args: str, prefix: Sequence[str] = (), timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**environment(tmp_path, **env), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The single error line, after checking exit code, no traceback and the words in it."""
    shown = f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.returncode == code, shown
    assert "Traceback" not in result.stderr + result.stdout, shown
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert lines[0].startswith("error: "), shown
    for word in words:
        assert word in lines[0], shown
    return lines[0]


def test_malformed_config_toml(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('log_level = "INFO\n', encoding="utf-8")
    one_line(newsbot(tmp_path, "--config", "bad.toml", "check-config"), 2, "not valid TOML")


def test_a_typo_in_a_settings_key_names_the_closest_one(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text("[poll]\nintervl_seconds = 600\n", encoding="utf-8")
    line = one_line(newsbot(tmp_path, "--config", "typo.toml", "check-config"), 2)
    assert "unknown setting poll.intervl_seconds" in line
    assert "did you mean poll.interval_seconds?" in line


def test_an_unknown_section_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text("[pol]\ninterval_seconds = 600\n", encoding="utf-8")
    one_line(newsbot(tmp_path, "--config", "typo.toml", "check-config"), 2, "did you mean poll?")


def test_an_unknown_log_level_is_refused(tmp_path: Path) -> None:
    one_line(newsbot(tmp_path, "--log-level", "LOUD", "check-config"), 2, "DEBUG, INFO")


def test_invalid_allow_hosts_entries_are_refused(tmp_path: Path) -> None:
    # Every accepted and refused form is in tests/test_settings.py; this is the operator's view.
    result = newsbot(tmp_path, "check-config", NEWSBOT_ALLOW_HOSTS="127.0.0.1,example.com:http")
    one_line(result, 2, "allow_hosts", "'example.com:http'", "host:port")


def test_valid_allow_hosts_forms_are_accepted(tmp_path: Path) -> None:
    hosts = "feeds.internal,feeds.internal:8080,127.0.0.1,[::1]:8443,10.0.0.0/8,::1"
    result = newsbot(tmp_path, "check-config", NEWSBOT_ALLOW_HOSTS=hosts)
    assert result.returncode == 0, result.stderr
    assert "feeds.internal:8080" in result.stdout


def test_read_only_data_directory(open_dir: Path) -> None:
    result = newsbot(open_dir, "feeds", "list", prefix=unprivileged())
    one_line(result, 1, f"{open_dir / 'data'} is not writable", "chown")


def test_a_corrupted_sqlite_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "newsbot.db").write_bytes(os.urandom(8192))
    line = one_line(newsbot(tmp_path, "feeds", "list"), 1, "not a SQLite database", "backup")
    assert "running" not in line


def test_a_damaged_sqlite_file_behind_a_good_header(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "newsbot.db").write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    line = one_line(newsbot(tmp_path, "feeds", "list"), 1, "damaged", "backup")
    assert "check that it is running" not in line


def test_a_loopback_feed_names_the_allow_hosts_setting(tmp_path: Path) -> None:
    result = newsbot(tmp_path, "feeds", "add", "http://127.0.0.1:9/feed.xml")
    one_line(result, 1, "not a public address", "NEWSBOT_ALLOW_HOSTS")


def test_the_traceback_comes_back_with_debug(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "newsbot.db").write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    result = newsbot(tmp_path, "--log-level", "DEBUG", "feeds", "list")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")


@pytest.fixture
def busy_port() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.slow
def test_health_port_already_in_use(tmp_path: Path, busy_port: int) -> None:
    result = newsbot(
        tmp_path, "--log-level", "ERROR", "run", timeout=100, NEWSBOT_HEALTH_PORT=str(busy_port)
    )
    one_line(result, 1, f":{busy_port}", "NEWSBOT_HEALTH_PORT")


@pytest.mark.slow
def test_ctrl_c_stops_without_tracebacks_from_parser_workers(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.toml"
    log = tmp_path / "stderr.txt"
    with serve(RSS) as url, log.open("w") as stderr:
        feeds.write_text(f'[[feeds]]\nurl = "{url}"\n', encoding="utf-8")
        env = environment(
            tmp_path,
            NEWSBOT_FEEDS_FILE=str(feeds),
            NEWSBOT_ALLOW_HOSTS="127.0.0.1",
            NEWSBOT_HEALTH_PORT=str(free_port()),
            NEWSBOT_NLP__FETCH_ARTICLES="false",
            PYTHONPATH=str(ROOT),
        )
        # A terminal's Ctrl+C signals the whole foreground process group, workers included.
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 100
            while "press Ctrl+C" not in log.read_text(encoding="utf-8"):
                assert bot.poll() is None, log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.2)
            os.killpg(bot.pid, signal.SIGINT)
            code = bot.wait(timeout=30)
        finally:
            if bot.poll() is None:
                os.killpg(bot.pid, signal.SIGKILL)
                bot.wait()
    text = log.read_text(encoding="utf-8")
    assert "polled 1 feed(s)" in text, text
    assert "1 answered" in text, text
    assert code == 0, text
    assert "Traceback" not in text, text
    assert "KeyboardInterrupt" not in text, text


def test_the_container_entrypoint_refuses_a_data_directory_it_cannot_write(
    open_dir: Path,
) -> None:
    data = open_dir / "data"
    command = [*unprivileged(), "sh", str(ENTRYPOINT), "echo", "started"]
    env = {"PATH": "/usr/bin:/bin", "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{data}/n.db"}
    refused = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=10, check=False
    )
    one_line(refused, 1, f"{data} is not writable", "chown -R")
    assert "started" not in refused.stdout
    # The fix the message names: the directory owned by the user the bot runs as.
    if is_root():
        os.chown(data, 65534, 65534)
    data.chmod(0o755)
    started = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=10, check=False
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "started"


async def test_a_title_given_by_the_operator_survives_the_next_poll(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'title.db'}")
    try:
        now = datetime(2026, 12, 1, tzinfo=UTC)
        feed = await store.add_feed("https://example.org/feed", now, title="My wire")
        await store.record_poll(
            feed.id,
            now=now,
            next_poll_at=now + timedelta(minutes=15),
            validators=Validators(),
            title="The feed's own title",
        )
        untitled = await store.add_feed("https://example.org/other", now)
        await store.record_poll(
            untitled.id,
            now=now,
            next_poll_at=now + timedelta(minutes=15),
            validators=Validators(),
            title="Other wire",
        )
        titles = {f.url: f.title for f in await store.list_feeds()}
    finally:
        await store.close()
    assert titles == {
        "https://example.org/feed": "My wire",
        "https://example.org/other": "Other wire",
    }
