"""Memory of a real ``newsbot run`` with N feeds: RSS of the whole process tree (issue 13.2).

Run by hand (not a test):

    .venv/bin/python benchmarks/memory.py [--feeds 100] [--seconds 75] [--interval 60]

It serves N generated feeds on 127.0.0.1 (the server of ``benchmarks/poll.py``), starts
``python -m bot run`` on a fresh SQLite file with terminal output, waits until ``/healthz`` says
the start-up cycle is done, then samples RSS (and PSS where the kernel gives it) of the bot and
every descendant with psutil twice a second. With ``--interval 60`` a second, conditional cycle
falls inside the window. It prints the peak and median of the tree and the share of each process.
Goal: steady-state tree RSS <= 350 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import start_server

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 350.0
MB = 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def role(proc: psutil.Process, bot_pid: int) -> str:
    if proc.pid == bot_pid:
        return "newsbot (main)"
    cmdline = " ".join(proc.cmdline())
    return "parser worker" if "bot.ingest.parse_worker" in cmdline else cmdline[:60] or "other"


def sample(bot: psutil.Process) -> dict[int, tuple[str, float, float | None]]:
    """pid -> (role, RSS MB, PSS MB or None) for the bot and all its descendants."""
    out = {}
    for proc in [bot, *bot.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = proc.memory_full_info()
            pss = getattr(info, "pss", None)
            out[proc.pid] = (role(proc, bot.pid), info.rss / MB, pss / MB if pss else None)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=75.0, help="sampling window (s)")
    parser.add_argument("--interval", type=int, default=60, help="poll interval (s, >= 60)")
    args = parser.parse_args(argv)
    server = start_server(args.feeds, 20.0, 600.0, args.feeds * 20 + 100)
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-memory-") as tmp:
            folder = Path(tmp)
            listing = "".join(f'[[feeds]]\nurl = "{server.url(i)}"\n' for i in range(args.feeds))
            (folder / "feeds.toml").write_text(listing, encoding="utf-8")
            port = free_port()
            env = {
                **os.environ,
                "NEWSBOT_ALLOW_HOSTS": "127.0.0.1",
                "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'newsbot.db'}",
                "NEWSBOT_FEEDS_FILE": str(folder / "feeds.toml"),
                "NEWSBOT_NLP__FETCH_ARTICLES": "false",
                "NEWSBOT_POLL__INTERVAL_SECONDS": str(args.interval),
                "NEWSBOT_HEALTH_PORT": str(port),
                "PYTHONPATH": str(ROOT),
            }
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                bot = psutil.Process(process.pid)
                peak_start = 0.0
                while not healthy(port):
                    if process.poll() is not None or time.monotonic() - started > 300:
                        print("the bot did not become healthy within 300 s", file=sys.stderr)
                        return 1
                    peak_start = max(peak_start, sum(r for _, r, _ in sample(bot).values()))
                    time.sleep(0.5)
                ready = time.monotonic() - started
                print(f"healthy after {ready:.1f} s; sampling for {args.seconds:.0f} s", flush=True)
                trees: list[float] = []
                pss_trees: list[float] = []
                by_role: dict[str, list[float]] = defaultdict(list)
                counts: list[int] = []
                deadline = time.monotonic() + args.seconds
                while time.monotonic() < deadline:
                    now = sample(bot)
                    trees.append(sum(rss for _, rss, _ in now.values()))
                    if all(pss is not None for _, _, pss in now.values()):
                        pss_trees.append(sum(pss or 0.0 for _, _, pss in now.values()))
                    per_role: dict[str, float] = defaultdict(float)
                    for name, rss, _ in now.values():
                        per_role[name] += rss
                    for name, rss in per_role.items():
                        by_role[name].append(rss)
                    counts.append(len(now))
                    time.sleep(0.5)
            finally:
                process.terminate()  # our own child, by its handle
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        server.stop()
    steady = statistics.median(trees)
    print(
        f"newsbot run with {args.feeds} feeds, {max(counts)} processes at most, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  peak tree RSS during start-up          {peak_start:8.1f} MB")
    print(f"  tree RSS after start-up, median / peak {steady:8.1f} / {max(trees):.1f} MB")
    if pss_trees:
        print(f"  tree PSS after start-up, median        {statistics.median(pss_trees):8.1f} MB")
    for name, values in sorted(by_role.items()):
        print(f"    {name:<36} median {statistics.median(values):7.1f} MB (all of that role)")
    verdict = "PASS" if steady <= GOAL_MB else "FAIL"
    print(f"steady-state tree RSS {steady:.1f} MB, goal <= {GOAL_MB:g} MB: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
