"""The container image, built and run for real with no registry (PLATFORM-TESTING §1, F5).

A stand-in for ``python:3.11-slim`` is made with debootstrap from the Debian mirror apt already
uses (cached as a tarball between runs), a private dockerd is started, the project's unchanged
Dockerfile is built, and the image runs the way production should run it: read-only root, a
tmpfs /tmp, no capabilities, no-new-privileges, a memory cap and one data volume.

Where dockerd cannot run (no root, no apt, a kernel without overlay), every test here skips
with a loud banner saying so.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.ops.logs import redact
from tests.ops.feeds import free_port, serve, summit_feed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("NEWSBOT_IMAGE_CACHE", "/tmp/newsbot-image-cache"))
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
STANDIN = CACHE / f"python-3.11-slim-standin-{SUITE}.tar"
IMAGE = "newsbot:image-test"
CANARY = "xoxb-" + uuid.uuid4().hex  # planted in the build context's .env; must not ship
RUN_FLAGS = shlex.split(
    "--network host --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges "
    "--memory 2g --pids-limit 512"
)


def loud_skip(reason: str) -> None:
    """Skip, with a banner nobody scrolling CI output can miss."""
    bar = "!" * 78
    banner = f"\n{bar}\n!! CONTAINER IMAGE NOT TESTED: {reason}\n{bar}\n"
    sys.stderr.write(banner)
    pytest.skip(banner)


def run(
    command: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        shown = shlex.join(str(part) for part in command)
        pytest.fail(
            f"{shown} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def ensure_tools() -> None:
    """docker.io and debootstrap from Debian, installed on first use."""
    if shutil.which("dockerd") and shutil.which("debootstrap"):
        return
    if shutil.which("apt-get") is None:
        loud_skip("dockerd/debootstrap missing and apt-get unavailable")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "docker.io",
        "debootstrap",
    ]
    if run(install, env=env, check=False).returncode != 0:
        run(["apt-get", "update", "-qq"], env=env, check=False)
        result = run(install, env=env, check=False)
        if result.returncode != 0:
            loud_skip(f"cannot install docker.io and debootstrap: {result.stderr[-500:]}")


def mirror() -> str:
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.is_file():
        for line in sources.read_text(encoding="utf-8").splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def standin_tarball() -> Path:
    """The python:3.11-slim stand-in rootfs as a tarball, made once and cached under /tmp."""
    if STANDIN.is_file():
        return STANDIN
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs.", dir=CACHE))
    try:
        rootfs = work / "rootfs"
        started = time.monotonic()
        run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, rootfs, mirror()])
        # The host trusts the egress proxy's CA; pip inside `docker build` needs the same trust.
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.is_file():
            shutil.copy(bundle, rootfs / "usr/local/share/ca-certificates/host-bundle.crt")
            run(["chroot", rootfs, "update-ca-certificates"], check=False)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = STANDIN.with_suffix(".part")
        run(["tar", "-C", rootfs, "-cf", partial, "."])
        partial.rename(STANDIN)
        sys.stderr.write(f"\nstand-in base made in {time.monotonic() - started:.0f} s\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return STANDIN


@dataclass
class Engine:
    """A private dockerd and the environment that points the docker CLI at it."""

    env: dict[str, str]

    def docker(
        self, *args: str | Path, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(["docker", *args], env=self.env, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    if sys.platform != "linux" or os.geteuid() != 0:
        loud_skip("needs root on Linux to run a private dockerd")
    ensure_tools()
    if shutil.which("docker") is None:
        loud_skip("no docker CLI on PATH")
    tarball = standin_tarball()
    work = Path(tempfile.mkdtemp(prefix="newsbot-dockerd.", dir="/tmp"))
    sock = work / "docker.sock"
    log = (work / "dockerd.log").open("w")
    # Host networking only: no bridge or iptables changes on the machine running the tests.
    daemon = subprocess.Popen(
        [
            "dockerd",
            "--data-root",
            work / "data",
            "--exec-root",
            work / "exec",
            "--pidfile",
            work / "dockerd.pid",
            "-H",
            f"unix://{sock}",
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver",
            "overlay2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    env.pop("DOCKER_CONTEXT", None)
    engine = Engine(env)
    try:
        deadline = time.monotonic() + 30
        while engine.docker("info", check=False, timeout=10).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                tail = (work / "dockerd.log").read_text(errors="replace")[-1500:]
                loud_skip(f"dockerd did not start:\n{tail}")
            time.sleep(0.2)
        engine.docker(
            "import",
            "-c",
            "ENV LANG=C.UTF-8",
            # Debian's pip is PEP 668-managed; the real image's is not. Only the stand-in needs it.
            "-c",
            "ENV PIP_BREAK_SYSTEM_PACKAGES=1",
            "-c",
            'CMD ["python3"]',
            tarball,
            "python:3.11-slim",
        )
        yield engine
    finally:
        running = engine.docker("ps", "-aq", check=False, timeout=30).stdout.split()
        if running:
            engine.docker("rm", "-f", *running, check=False, timeout=60)
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        # dockerd leaves an nsfs mount behind; unmount it before removing the tree.
        subprocess.run(
            ["umount", work / "exec" / "netns" / "default"], capture_output=True, check=False
        )
        shutil.rmtree(work, ignore_errors=True)


def build_context(target: Path) -> Path:
    """The repository's files as git sees them, plus secrets that must never reach the image."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".env").write_text(f"NEWSBOT_SLACK__BOT_TOKEN={CANARY}\n", encoding="utf-8")
    (target / "data").mkdir(exist_ok=True)
    (target / "data" / "newsbot.db").write_text(CANARY, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = build_context(tmp_path_factory.mktemp("context"))
    started = time.monotonic()
    engine.docker("build", "--network", "host", "-t", IMAGE, context, timeout=1800)
    sys.stderr.write(f"\nimage built in {time.monotonic() - started:.0f} s\n")
    return IMAGE


def get(url: str, timeout: float = 3) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_container_is_healthy_unprivileged_and_stops_cleanly(engine: Engine, image: str) -> None:
    port = free_port()
    name = f"newsbot-smoke-{port}"
    started = time.monotonic()
    engine.docker(
        "run",
        "-d",
        "--name",
        name,
        *RUN_FLAGS,
        "-v",
        f"newsbot-smoke-{port}:/data",
        "-e",
        f"NEWSBOT_HEALTH_PORT={port}",
        # no default feeds: this container must not reach out to the internet
        "-e",
        "NEWSBOT_FEEDS_FILE=/app/config/none.toml",
        image,
    )
    status, body = 0, ""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            status, body = get(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            status = 0
        if status == 200:
            break
        state = json.loads(engine.docker("inspect", name).stdout)[0]["State"]
        if not state["Running"]:
            break
        time.sleep(0.5)
    logs = engine.docker("logs", name, check=False)
    assert status == 200, f"/healthz: {status} {body}\n{logs.stdout[-2000:]}{logs.stderr[-3000:]}"
    sys.stderr.write(f"\ncontainer healthy {time.monotonic() - started:.1f} s after start\n")
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["platforms"] == {"console": True}

    status, text = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    assert "newsbot_outbox_depth" in text

    assert engine.docker("exec", name, "id", "-u").stdout.strip() == "10001"
    inspected = json.loads(engine.docker("inspect", name).stdout)[0]
    assert inspected["Config"]["User"] == "10001:10001"
    assert inspected["HostConfig"]["ReadonlyRootfs"] is True
    # the image's own HEALTHCHECK command, run now rather than after its first interval
    check = inspected["Config"]["Healthcheck"]["Test"]
    assert check[0] == "CMD"
    assert engine.docker("exec", name, *check[1:], check=False).returncode == 0
    writable = engine.docker("exec", name, "touch", "/app/x", check=False)
    assert writable.returncode != 0, "the root filesystem must be read-only"

    stopping = time.monotonic()
    engine.docker("stop", "-t", "30", name, timeout=60)
    stopped_in = time.monotonic() - stopping
    state = json.loads(engine.docker("inspect", name).stdout)[0]["State"]
    logs = engine.docker("logs", name, check=False)
    assert state["ExitCode"] == 0, f"{state}\n{logs.stderr[-3000:]}"
    assert stopped_in < 25, f"SIGTERM took {stopped_in:.1f} s"
    sys.stderr.write(f"stopped on SIGTERM in {stopped_in:.1f} s\n")


def test_run_once_in_the_container_polls_a_feed_on_loopback(
    engine: Engine, image: str, shared_dir: Path, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds.toml"
    with serve(summit_feed(shared_dir / "corpus" / "dev" / "dev.jsonl")) as url:
        feeds.write_text(f'[[feeds]]\nurl = "{url}"\n', encoding="utf-8")
        feeds.chmod(0o644)
        started = time.monotonic()
        result = engine.docker(
            "run",
            "--rm",
            *RUN_FLAGS,
            "-v",
            f"newsbot-once-{uuid.uuid4().hex[:8]}:/data",
            "-v",
            f"{feeds}:/app/feeds.toml:ro",
            "-e",
            "NEWSBOT_FEEDS_FILE=/app/feeds.toml",
            "-e",
            "NEWSBOT_ALLOW_HOSTS=127.0.0.1",
            "-e",
            "NEWSBOT_POLL__FIRST_POLL_ANNOUNCE=100",
            "-e",
            "NEWSBOT_NLP__FETCH_ARTICLES=false",
            image,
            "newsbot",
            "run",
            "--once",
            check=False,
        )
    sys.stderr.write(f"\nrun --once in the container took {time.monotonic() - started:.1f} s\n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "polled 1 feed(s)" in result.stderr, result.stderr[-3000:]
    assert "1 new" in result.stderr, result.stderr[-3000:]
    assert "NEW SUMMIT STORY" in result.stdout, result.stdout[-3000:]


def test_image_holds_no_secret(engine: Engine, image: str) -> None:
    history = engine.docker("history", "--no-trunc", image).stdout
    inspected = engine.docker("image", "inspect", image).stdout
    for text in (history, inspected):
        assert CANARY not in text
        assert redact(text) == text, "something token-shaped in the image metadata"
    environment = json.loads(inspected)[0]["Config"]["Env"]
    for variable in environment:
        assert not any(word in variable.split("=")[0] for word in ("TOKEN", "SECRET", "PASSWORD"))
    found = engine.docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        image,
        "-c",
        f"ls -a /app /data; grep -rl {CANARY} /app /data /opt/venv/lib/python3.11/site-packages/bot"
        " || true",
    ).stdout
    assert ".env" not in found.split()
    assert "newsbot.db" not in found.split()
    assert CANARY not in found
