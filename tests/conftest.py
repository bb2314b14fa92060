"""Shared fixtures: paths to the read-only shared corpus, skipped clearly where it is absent."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder beside the project; tests needing it skip without it."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED}: place ../shared beside the project")
    return SHARED


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh empty database: SQLite always, PostgreSQL when NEWSBOT_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}"
        return
    base = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("set NEWSBOT_TEST_POSTGRES_URL to run the storage tests on PostgreSQL too")
    import asyncpg

    name = f"newsbot_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield base.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated Store on the parametrised backend."""
    opened = await Store.open(database_url)
    yield opened
    await opened.close()
