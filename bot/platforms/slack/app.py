"""newsbot on Slack: one Bolt ``AsyncApp`` behind either transport, chosen by the settings.

Socket Mode (``app_token`` set; no public URL, the default for self-hosters) or HTTP mode
(``signing_secret`` set): Bolt's aiohttp server verifies each request's signature against the
raw body and refuses timestamps more than five minutes old (RELIABILITY E4). The transport is
an adapter around the same app, so commands behave the same either way.

Slack delivers at least once: a request answered late is sent again with ``X-Slack-Retry-Num``
(E2). ``OnceOnly`` remembers each delivery's id (``event_id`` for events, ``trigger_id`` for
commands and interactions) and answers repeats with an empty 200 and ``X-Slack-No-Retry``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import ConfigError
from bot.core.ports import NewsDesk
from bot.ops.logs import install_redaction as redacting
from bot.platforms.slack.commands import AdminPolicy, SlackCommands
from bot.platforms.slack.notifier import SlackNotifier
from bot.settings import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_PORT = 3000


class OnceOnly:
    """Remembers delivery ids for a while so a retried delivery is processed once (E2)."""

    def __init__(
        self,
        *,
        ttl: float = 900.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Slack retries after about 1 and 5 minutes; 15 minutes covers every retry.
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, delivery_id: str) -> bool:
        """True the first time ``delivery_id`` is seen within the window."""
        now = self._clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._ttl and len(self._seen) < self._size:
                break
            self._seen.pop(oldest)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True

    async def middleware(
        self,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        """A Bolt global middleware: stop repeats before any listener runs."""
        delivery = delivery_id(body)
        if delivery is None or self.first(delivery):
            await next()
            return None
        retry = _header(request.headers, "x-slack-retry-num") or "?"
        reason = _header(request.headers, "x-slack-retry-reason") or "repeat"
        log.info("ignoring Slack delivery %s again (retry %s: %s)", delivery, retry, reason)
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})


_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def request_problem(
    body: bytes, headers: Mapping[str, str], verifier: SignatureVerifier
) -> tuple[int, str] | None:
    """Why an HTTP-mode request must be refused (status, reason), or None to let Bolt have it.

    Anyone can reach the endpoint. Bolt and slack_sdk raise on an unreadable timestamp, a
    non-ASCII signature or a body that is not UTF-8, which aiohttp answers with 500 and an
    ERROR traceback per request; these are refused here first, with a short reason.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        return 401, "missing or unreadable X-Slack-Request-Timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return 401, "missing or malformed X-Slack-Signature"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
        return 401, "bad signature or a timestamp more than five minutes off"
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            parsed = json.loads(text)
        except ValueError:
            return 400, "the JSON body cannot be parsed"
        if not isinstance(parsed, dict):
            return 400, "the JSON body is not an object"
    elif content_type != "application/x-www-form-urlencoded":
        return 400, f"unexpected content type {content_type[:60]!r}"
    return None


def delivery_id(body: Mapping[str, Any]) -> str | None:
    """What identifies one delivery: the event id, else the trigger id of a command."""
    for key in ("event_id", "trigger_id"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return f"{key}:{value}"
    return None


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return str(value) if value is not None else None


class SlackBot:
    """The Slack side of newsbot: commands over a NewsDesk, a notifier, and a transport.

    ``base_url`` points the Web API at another host (tests); ``admin_group`` names the user
    group whose members may configure newsbot besides workspace admins and owners.
    """

    def __init__(
        self,
        settings: SlackSettings,
        desk: NewsDesk,
        *,
        admin_group: str | None = None,
        http_host: str = "0.0.0.0",  # noqa: S104 - Slack must reach the HTTP endpoint
        http_port: int = DEFAULT_PORT,
        path: str = EVENTS_PATH,
        base_url: str | None = None,
        socket_mode: bool | None = None,
    ) -> None:
        self.settings = settings
        token = _secret(settings.bot_token)
        if token is None:
            raise ConfigError("set slack.bot_token (NEWSBOT_SLACK__BOT_TOKEN) to run on Slack")
        self._app_token = _secret(settings.app_token)
        signing_secret = _secret(settings.signing_secret)
        self.socket_mode = self._app_token is not None if socket_mode is None else socket_mode
        if self.socket_mode and self._app_token is None:
            raise ConfigError("Socket Mode needs slack.app_token (an xapp-… app-level token)")
        if not self.socket_mode and signing_secret is None:
            raise ConfigError(
                "HTTP mode needs slack.signing_secret (or set slack.app_token for Socket Mode)"
            )
        secrets = [s for s in (token, self._app_token, signing_secret) if s]
        api = base_url or AsyncWebClient.BASE_URL
        self.client = AsyncWebClient(token=token, base_url=api)
        # The notifier's client never retries by itself: the outbox does, after reconciling.
        self.notifier = SlackNotifier(AsyncWebClient(token=token, base_url=api, retry_handlers=[]))
        self.http_host, self.http_port, self.path = http_host, http_port, path
        self.once = OnceOnly()
        self.commands = SlackCommands(desk, AdminPolicy(admin_group))
        self.app = AsyncApp(
            client=self.client,
            # Socket Mode has no signature; HTTP requests are always verified.
            signing_secret=signing_secret or "",
            request_verification_enabled=not self.socket_mode,
            logger=logging.getLogger("bot.platforms.slack.bolt"),
        )
        self.app.use(self.once.middleware)
        self.commands.register(self.app)
        # After the app exists: Bolt and slack_sdk create their loggers as they are built.
        install_redaction(secrets)
        self._bound_port: int | None = None
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def web_app(self) -> web.Application:
        """The aiohttp application of HTTP mode: malformed requests are refused before Bolt."""
        application = self.app.web_app(path=self.path, port=self.http_port)
        if self._verifier is not None:
            application.middlewares.append(self._refuse_malformed)
        return application

    @web.middleware
    async def _refuse_malformed(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self._verifier is None or request.method != "POST" or request.path != self.path:
            return await handler(request)
        problem = request_problem(await request.read(), request.headers, self._verifier)
        if problem is None:
            return await handler(request)
        status, reason = problem
        log.warning("refused a Slack request from %s: %s", request.remote, reason)
        return web.json_response({"error": "invalid request"}, status=status)

    @property
    def port(self) -> int | None:
        """The port HTTP mode listens on once serving (useful with port 0)."""
        return self._bound_port

    async def serve(self, stop: asyncio.Event) -> None:
        """Answer commands over Socket Mode or HTTP until ``stop`` is set; then close."""
        if self.socket_mode:
            await self._serve_socket_mode(stop)
        else:
            await self._serve_http(stop)

    async def _serve_socket_mode(self, stop: asyncio.Event) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import (  # noqa: PLC0415
            AsyncSocketModeHandler,
        )

        handler = AsyncSocketModeHandler(self.app, self._app_token)
        # slack_bolt leaves these two unannotated.
        connect = cast("Callable[[], Awaitable[None]]", handler.connect_async)
        close = cast("Callable[[], Awaitable[None]]", handler.close_async)
        await connect()
        log.info("connected to Slack over Socket Mode")
        try:
            await stop.wait()
        finally:
            await close()

    async def _serve_http(self, stop: asyncio.Event) -> None:
        runner = web.AppRunner(self.web_app())
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.http_host, self.http_port)
            await site.start()
            server = site._server  # aiohttp keeps the bound sockets here
            sockets = getattr(server, "sockets", None) or []
            self._bound_port = sockets[0].getsockname()[1] if sockets else self.http_port
            log.info(
                "answering Slack on http://%s:%s%s", self.http_host, self._bound_port, self.path
            )
            await stop.wait()
        finally:
            await runner.cleanup()


def _secret(value: Any) -> str | None:
    text = value.get_secret_value().strip() if value is not None else ""
    return text or None


# --- secrets never reach the log (RELIABILITY F4) -----------------------------------------------

_REDACTED_PREFIXES = ("slack_bolt", "slack_sdk", "bot.platforms.slack")
_REDACTED_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.async_internal_utils",
    "slack_sdk.socket_mode.aiohttp",
    "slack_sdk.socket_mode.async_client",
    "slack_sdk.webhook.async_client",
    "slack_bolt.RequestVerification",
    "slack_bolt.AsyncApp",
    "bot.platforms.slack",
    "bot.platforms.slack.app",
    "bot.platforms.slack.bolt",
    "bot.platforms.slack.commands",
    "bot.platforms.slack.notifier",
)


def install_redaction(secrets: Iterable[str] = ()) -> logging.Filter:
    """Attach the shared token filter to every Slack library logger and ours (idempotent)."""
    return redacting(_REDACTED_LOGGERS, secrets, prefixes=_REDACTED_PREFIXES)
