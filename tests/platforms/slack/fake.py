"""A fake Slack on 127.0.0.1: the Web API, response_url and file uploads, every request recorded.

The real slack_sdk ``AsyncWebClient`` talks to it through ``base_url``; channels keep the
messages posted to them (with their metadata) so ``conversations.history`` answers like Slack.
Failures are queued per method with ``fail``; ``lose_answer`` posts a message but answers 500,
as when Slack commits a post and the answer is lost.

Socket Mode too: ``apps.connections.open`` (app-level token only) issues a one-use
``ws://…/socket?ticket=…`` URL; the websocket there says ``hello``, answers pings, delivers the
envelopes a test hands to ``deliver`` and records every frame the app sends back (its acks).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-1111-2222-testtokenvalue"
APP_TOKEN = "xapp-1-A111-2222-testapptoken"
SIGNING_SECRET = "test-signing-secret-8f2d"
TEAM_ID = "T0TEAM"
CHANNEL_ID = "C0NEWS"
GONE_CHANNEL = "C0GONE"
OUTSIDE_CHANNEL = "C0OUTSIDE"
ADMIN = "U0ADMIN"
OWNER = "U0OWNER"
MEMBER = "U0MEMBER"
GROUP_MEMBER = "U0GROUP"
ADMIN_GROUP_ID = "S0ADMINS"
ADMIN_GROUP_HANDLE = "newsbot-admins"
APP_ID = "A0APP"

USERS = {
    ADMIN: {"id": ADMIN, "is_admin": True, "is_owner": False},
    OWNER: {"id": OWNER, "is_admin": False, "is_owner": True},
    MEMBER: {"id": MEMBER, "is_admin": False, "is_owner": False},
    GROUP_MEMBER: {"id": GROUP_MEMBER, "is_admin": False, "is_owner": False},
}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """A queued failure for one API method."""

    status: int = 200
    error: str = "internal_error"
    headers: dict[str, str] = field(default_factory=dict)
    commit: bool = False  # post the message anyway (the answer is what gets lost)


class FakeSlack:
    """Records every call; answers like the Slack Web API for the methods newsbot uses."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.uploads: dict[str, bytes] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self._last_ts = 0.0
        self._files = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.base = ""
        # Socket Mode: issued tickets, every websocket (open or not), frames both ways, pings.
        self.tickets: set[str] = set()
        self.sockets: list[web.WebSocketResponse] = []
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.pings: list[bytes] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self.api)
        self.app.router.add_post("/response/{id}", self.response_url)
        self.app.router.add_post("/upload/{id}", self.upload)
        self.app.router.add_get("/socket", self.socket)
        self.app.on_shutdown.append(self._close_sockets)

    # --- test controls ------------------------------------------------------------------------

    def fail(self, method: str, *failures: Failure) -> None:
        """Queue failures for the next calls of ``method``."""
        self.failures.setdefault(method, []).extend(failures)

    def called(self, method: str) -> list[Call]:
        """Every call of one API method."""
        return [call for call in self.calls if call.method == method]

    def posts(self, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first."""
        return self.channels.get(channel, [])

    async def wait_responses(self, response_id: str, count: int = 1, timeout: float = 5) -> None:
        """Until ``count`` answers arrived on one response_url."""
        await self._until(lambda: len(self.responses.get(response_id, [])) >= count, timeout)

    async def _until(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    # --- Socket Mode controls -----------------------------------------------------------------

    @property
    def open_sockets(self) -> list[web.WebSocketResponse]:
        """The websockets an app holds open now."""
        return [ws for ws in self.sockets if not ws.closed]

    async def wait_socket(self, timeout: float = 5) -> web.WebSocketResponse:
        """Until an app holds a websocket open; the newest one."""
        await self._until(lambda: bool(self.open_sockets), timeout)
        return self.open_sockets[-1]

    async def wait_sockets_closed(self, timeout: float = 5) -> None:
        """Until every websocket is closed."""
        await self._until(lambda: not self.open_sockets, timeout)

    async def deliver(self, envelope: dict[str, Any]) -> None:
        """Send one envelope down the newest open websocket, as Slack pushes an event."""
        ws = self.open_sockets[-1]
        self.sent.append(envelope)
        await ws.send_json(envelope)

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        """Every frame the app sent back for one envelope."""
        return [frame for frame in self.received if frame.get("envelope_id") == envelope_id]

    async def wait_ack(
        self, envelope_id: str, count: int = 1, timeout: float = 3
    ) -> list[dict[str, Any]]:
        """Until ``count`` acks of one envelope arrived (Slack allows 3 seconds)."""
        await self._until(lambda: len(self.acks(envelope_id)) >= count, timeout)
        return self.acks(envelope_id)

    # --- handlers -----------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        self.calls.append(Call(method, params, dict(request.headers)))
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            if failure.commit and method == "chat.postMessage":
                self._store(params)
            return web.json_response(
                {"ok": False, "error": failure.error},
                status=failure.status,
                headers=failure.headers,
            )
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(await handler(params))

    async def response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("response_url", body, dict(request.headers)))
        async with self._arrived:
            self.responses.setdefault(request.match_info["id"], []).append(body)
            self._arrived.notify_all()
        return web.Response(text="ok")

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """The Socket Mode websocket: only with a ticket from apps.connections.open, once."""
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets or request.query.get("app_id") != APP_ID:
            return web.Response(status=401, text="invalid_ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=False)  # pings are answered (and recorded) below
        await ws.prepare(request)
        self.sockets.append(ws)
        hello = {
            "type": "hello",
            "num_connections": len(self.open_sockets),
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        self.sent.append(hello)
        await ws.send_json(hello)
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.PING:
                    self.pings.append(message.data)
                    await ws.pong(message.data)
                elif message.type == WSMsgType.TEXT:
                    self.received.append(json.loads(message.data))
                    await self._notify()
        finally:
            await self._notify()
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in self.open_sockets:
            await ws.close()

    async def upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["id"]] = await request.read()
        self.calls.append(Call("upload", {"id": request.match_info["id"]}, {}))
        return web.Response(text="OK")

    # --- API methods --------------------------------------------------------------------------

    async def m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
            "team_id": TEAM_ID,
            "user": "newsbot",
            "url": "https://example.slack.com/",
        }

    def _gone(self, channel: str) -> dict[str, Any] | None:
        if channel == GONE_CHANNEL:
            return {"ok": False, "error": "channel_not_found"}
        return None

    def _store(self, params: dict[str, Any]) -> dict[str, Any]:
        # Real Slack ts are the post's epoch time, unique per channel: ``oldest`` filters on it.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        ts = f"{self._last_ts:.6f}"
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = {
            "type": "message",
            "ts": ts,
            "text": params.get("text"),
            "blocks": params.get("blocks"),
            "metadata": metadata,
            "bot_id": "B0BOT",
        }
        self.channels.setdefault(params["channel"], []).append(message)
        return message

    async def m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        gone = self._gone(params["channel"])
        if gone:
            return gone
        message = self._store(params)
        return {"ok": True, "channel": params["channel"], "ts": message["ts"], "message": message}

    async def m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        gone = self._gone(params["channel"])
        if gone:
            return gone
        if params["channel"] == OUTSIDE_CHANNEL:
            return {"ok": False, "error": "not_in_channel"}
        limit = int(params.get("limit") or 100)
        offset = int(params.get("cursor") or 0)
        oldest = float(params.get("oldest") or 0)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        newest_first = [
            m for m in reversed(self.channels.get(params["channel"], [])) if float(m["ts"]) > oldest
        ]
        page = newest_first[offset : offset + limit]
        messages = [{k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in page]
        more = offset + limit < len(newest_first)
        answer: dict[str, Any] = {"ok": True, "messages": messages, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(offset + limit)}
        return answer

    async def m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = USERS.get(params.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    async def m_usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = {"id": ADMIN_GROUP_ID, "handle": ADMIN_GROUP_HANDLE, "name": "Newsbot admins"}
        return {"ok": True, "usergroups": [group]}

    async def m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("usergroup") != ADMIN_GROUP_ID:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": [GROUP_MEMBER]}

    async def m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        # Slack issues Socket Mode URLs to app-level tokens only.
        if self.calls[-1].headers.get("Authorization") != f"Bearer {APP_TOKEN}":
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        ws_base = "ws" + self.base.removeprefix("http")
        return {"ok": True, "url": f"{ws_base}/socket?ticket={ticket}&app_id={APP_ID}"}

    async def m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._files):04d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    async def m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel_id") == OUTSIDE_CHANNEL:
            return {"ok": False, "error": "not_in_channel"}
        files = params.get("files")
        parsed = json.loads(files) if isinstance(files, str) else files
        return {"ok": True, "files": [{"id": item["id"]} for item in parsed or []]}


@contextlib.asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlack]:
    """A FakeSlack on a free loopback port."""
    fake = FakeSlack()
    runner = web.AppRunner(fake.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


# --- requests as Slack sends them ----------------------------------------------------------------

_triggers = itertools.count(1)


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's v0 request signature over the raw body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_fields(
    fake: FakeSlack,
    command: str,
    text: str,
    *,
    user: str = ADMIN,
    channel: str = CHANNEL_ID,
    trigger: str | None = None,
) -> tuple[dict[str, str], str]:
    """A slash command's fields (as Slack sends them) and its response_url id."""
    trigger = trigger or f"{next(_triggers)}.{time.monotonic_ns()}.abc"
    response_id = hashlib.sha1(trigger.encode()).hexdigest()[:12]
    fields = {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "news",
        "user_id": user,
        "user_name": "someone",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": f"{fake.base}/response/{response_id}",
        "trigger_id": trigger,
    }
    return fields, response_id


def command_body(
    fake: FakeSlack,
    command: str,
    text: str,
    *,
    user: str = ADMIN,
    channel: str = CHANNEL_ID,
    trigger: str | None = None,
) -> tuple[str, str]:
    """A slash command's form body (HTTP mode) and its response_url id."""
    fields, response_id = command_fields(
        fake, command, text, user=user, channel=channel, trigger=trigger
    )
    return urlencode(fields), response_id


def command_envelope(
    fake: FakeSlack,
    command: str,
    text: str,
    *,
    user: str = ADMIN,
    channel: str = CHANNEL_ID,
) -> tuple[dict[str, Any], str]:
    """A slash command as Slack pushes it over Socket Mode, and its response_url id."""
    fields, response_id = command_fields(fake, command, text, user=user, channel=channel)
    envelope = {
        "envelope_id": str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": fields,
    }
    return envelope, response_id
