"""The real ``newsbot`` command in a child process, for end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Generous: a start loads spaCy, which takes tens of seconds on a loaded 2-core machine.
COMMAND_TIMEOUT_S = 300


def newsbot(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` and capture what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
