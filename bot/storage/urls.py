"""Database URL helpers that import no database library, for the checks every command runs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

_SQLITE_SCHEMES = ("sqlite://", "sqlite+")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for PostgreSQL and in-memory SQLite.

    Reads URLs the way SQLAlchemy's ``make_url`` does: ``sqlite:///relative.db``,
    ``sqlite:////absolute.db``, an optional ``?query``.
    """
    if not url.startswith(_SQLITE_SCHEMES):
        return None
    _, _, rest = url.partition("://")
    database = unquote(rest.partition("?")[0].removeprefix("/"))
    if database in ("", ":memory:"):
        return None
    return Path(database)
