"""Checks run before the database opens, so an operator's mistake is one sentence with its fix."""

from __future__ import annotations

import os
from pathlib import Path

from bot.core.errors import ConfigError
from bot.storage.urls import sqlite_path

_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_database_location(url: str) -> None:
    """Refuse a SQLite file whose directory or file cannot be written, or that is not SQLite.

    SQLite in WAL mode writes beside the file even to read, so read-only commands need this too.
    """
    path = sqlite_path(url)
    if path is None:
        return
    directory = _existing_ancestor(path.parent)
    uid = os.geteuid()
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the data directory {directory} is not writable by uid {uid}: run "
            f"`chown -R {uid} {directory}` (or chmod u+w) or set NEWSBOT_DATABASE_URL to a "
            "writable place"
        )
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(
                f"the database file {path} is not writable by uid {uid}: run "
                f"`chown {uid} {path}` or set NEWSBOT_DATABASE_URL to another file"
            )
        _check_sqlite_header(path)


def _existing_ancestor(directory: Path) -> Path:
    """The directory itself, or the nearest parent that exists (where it would be created)."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def _check_sqlite_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise ConfigError(f"cannot read the database file {path}: {exc.strerror}") from exc
    # An empty file is what sqlite3 itself creates before the first table: it is fine.
    if header and header != _SQLITE_MAGIC:
        raise ConfigError(
            f"{path} is not a SQLite database (damaged or another file): restore it from a "
            "backup, or move it away to start with an empty database"
        )
