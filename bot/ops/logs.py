"""Log configuration: readable lines by default, JSON lines with one setting, secrets redacted.

The redaction filter sits on the handlers, not on loggers, so it sees every record that is
written, whichever library logged it (RELIABILITY F4): discord.py logs webhook and interaction
URLs with their tokens at DEBUG, slack_sdk logs incoming-webhook URLs, drivers quote connection
URLs in errors. Known secret values (the configured tokens) are replaced verbatim as well.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "<redacted>"
READABLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# Each pattern keeps group 1 (the harmless prefix) and replaces the rest.
_PATTERNS = (
    # Discord webhook execute, interaction callbacks and follow-ups carry the token in the path
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]+"),
    # Slack incoming-webhook and response_url paths are secrets as a whole (also URL-encoded)
    re.compile(
        r"(hooks\.slack\.com(?:/|%2F)(?:services|commands|actions|workflows|triggers)"
        r"(?:/|%2F))[^\s&'\"]+",
        re.IGNORECASE,
    ),
    # Slack bot, user, app-level and refresh tokens
    re.compile(r"()\bxox[a-z]-[A-Za-z0-9\-]+"),
    re.compile(r"()\bxapp-[A-Za-z0-9\-]+"),
    # anything shaped like a Discord bot token
    re.compile(r"()[MNO][A-Za-z\d_\-]{23,27}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,40}"),
    # Authorization headers
    re.compile(
        r"""(authorization['"]?\s*[:=]\s*['"]?(?:Bot|Bearer|Basic)\s+)[A-Za-z0-9_.\-+/=]+""",
        re.IGNORECASE,
    ),
    # the password part of a URL: scheme://user:password@host
    re.compile(r"([a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.IGNORECASE),
    # token=…, "signing_secret": "…", password: … in reprs, JSON and query strings
    re.compile(
        r"""((?:token|secret|password|passwd|signing_secret|client_secret|api_key)"""
        r"""['"]?\s*[:=]\s*['"]?)[^\s'",&}]+""",
        re.IGNORECASE,
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and anything token-shaped replaced by <redacted>."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack with secrets removed; keeps the record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("newsbot-ops-redact")
        self.secrets: set[str] = {secret for secret in secrets if secret}

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these values from now on."""
        self.secrets.update(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only its text changes."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_redaction(
    logger_names: Iterable[str], secrets: Iterable[str] = (), prefixes: Iterable[str] = ()
) -> RedactingFilter:
    """Put one redacting filter on named loggers (and those under ``prefixes`` created so far).

    Handler-level redaction (``configure_logging``) covers our own handlers; this covers
    loggers a library may send elsewhere. A filter on a logger sees only its own records, so
    platforms name their libraries' loggers. Idempotent: secrets accumulate on one filter.
    """
    names = set(logger_names)
    starts = tuple(prefixes)
    if starts:
        names.update(
            name for name in list(logging.root.manager.loggerDict) if name.startswith(starts)
        )
    loggers = [logging.getLogger(name) for name in sorted(names)]
    found = next(
        (f for logger in loggers for f in logger.filters if isinstance(f, RedactingFilter)), None
    )
    redactor = found or RedactingFilter()
    redactor.add_secrets(secrets)
    for logger in loggers:
        if redactor not in logger.filters:
            logger.addFilter(redactor)
    return redactor


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single JSON line."""
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False)


class _OpsHandler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging owns, so calling it again replaces it."""


def configure_logging(
    level: str | int = "INFO",
    json: bool = False,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> RedactingFilter:
    """Log to stderr (readable, or JSON lines with ``json``), every handler redacting secrets.

    Idempotent: a second call replaces the handler it installed and adds ``secrets`` to the
    same filter. Handlers others attached to the root logger (pytest's, a syslog one) get the
    filter too.
    """
    root = logging.getLogger()
    redactor = _existing_filter(root) or RedactingFilter()
    redactor.add_secrets(secrets)
    for handler in list(root.handlers):
        if isinstance(handler, _OpsHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _OpsHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(READABLE_FORMAT))
    root.addHandler(handler)
    for each in root.handlers:
        if redactor not in each.filters:
            each.addFilter(redactor)
    numeric = level if isinstance(level, int) else logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    # Migrations and every scheduled run are routine; our own log says what matters.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(
            logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
        )
    return redactor


def _existing_filter(root: logging.Logger) -> RedactingFilter | None:
    for handler in root.handlers:
        for each in handler.filters:
            if isinstance(each, RedactingFilter):
                return each
    return None
