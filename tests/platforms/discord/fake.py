"""A fake Discord on 127.0.0.1: REST with every request recorded, and a minimal gateway.

The real discord.py client talks to it once ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` point here (the ``fake_discord`` fixture does that).
Like Discord, a channel send with ``enforce_nonce`` and a nonce already used in that channel
returns the message already created instead of creating another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord.gateway
import discord.http
import discord.utils
import pytest
import yarl
from aiohttp import WSMsgType, web

APP_ID = "100000000000000001"
GUILD_ID = "500000000000000005"
CHANNEL_ID = "300000000000000003"
USER_ID = "400000000000000004"
BOT_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GfAkEe.abcdefghijklmnopqrstuvwxyz0123456789AB"
INTERACTION_TOKEN_PREFIX = "itok-"

BOT_USER = {
    "id": APP_ID,
    "username": "newsbot",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
ADMIN_PERMISSIONS = str((1 << 41) - 1)  # every permission bit, MANAGE_GUILD (1 << 5) included
MEMBER_PERMISSIONS = str(
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)
)  # view, send, embed, history


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    content_type: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def is_message_payload(self) -> bool:
        """True for requests that create or edit a visible message."""
        return self.payload is not None and any(
            key in self.payload for key in ("content", "embeds", "attachments")
        )

    @property
    def payload(self) -> dict[str, Any] | None:
        """The message part of the body (interaction callbacks nest it under ``data``)."""
        if not isinstance(self.body, dict):
            return None
        if self.path.endswith("/callback"):
            data = self.body.get("data")
            return data if isinstance(data, dict) else None
        return self.body


@dataclass
class Failure:
    """A scripted answer for the next request(s) matching ``method`` and ``path``."""

    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int = 1
    commit: bool = False  # act on the request first (the message exists), then fail
    delay: float = 0.0


def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """discord.py parses a body only when Content-Type is exactly application/json."""
    return web.Response(
        body=json.dumps(obj).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    """REST and gateway endpoints with recorded calls, scripted failures and nonce dedupe."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.failures: deque[Failure] = deque()
        self.guilds: list[dict[str, Any]] = []
        self.base = ""
        self._last_id = 0
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.router.add_get("/gateway", self._gateway)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1 on a free port; returns ``host:port``."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base = f"127.0.0.1:{port}"
        return self.base

    async def close(self) -> None:
        """Close sockets and stop listening."""
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"http://{self.base}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.base}/gateway"

    # --- scripting and queries ---------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        commit: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and the ``path`` regex."""
        self.failures.append(
            Failure(method, re.compile(path), status, body, headers or {}, times, commit, delay)
        )

    def rate_limit(self, path: str, retry_after: float, *, scope: str = "user") -> None:
        """A 429 as Discord sends it (with a Via header, so discord.py treats it as Discord's)."""
        self.fail(
            "POST",
            path,
            429,
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
            headers={
                "Via": "1.1 google",
                "Retry-After": str(retry_after),
                "X-RateLimit-Scope": scope,
            },
        )

    def forget_nonces(self) -> None:
        """Discord keeps a nonce only for a few minutes: act as if they have passed."""
        self._nonces.clear()

    def message_calls(self) -> list[Call]:
        """Every request that creates or edits a visible message."""
        return [call for call in self.calls if call.is_message_payload]

    def requests(self, method: str, pattern: str) -> list[Call]:
        """Recorded requests with this method whose path matches ``pattern``."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.search(c.path)]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected client."""
        for socket in list(self._sockets):
            await socket.send_json({"op": 0, "s": next(self._seq), "t": event, "d": data})

    # --- REST --------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        call = Call(
            request.method, path, dict(request.query), body, files, request.content_type or ""
        )
        self.calls.append(call)
        failure = self._take_failure(request.method, path)
        if failure is not None:
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.commit:
                await self._answer(call)
            return json_response(failure.body or {}, failure.status, failure.headers)
        return await self._answer(call)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if not request.can_read_body:
            return None, []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            body: Any = None
            files: list[tuple[str, bytes]] = []
            for name, value in form.items():
                if name == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    files.append((value.filename, value.file.read()))
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.path.search(path):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    async def _answer(self, call: Call) -> web.StreamResponse:
        parts = call.path.strip("/").split("/")
        body = call.body if isinstance(call.body, dict) else {}
        if call.path == "/users/@me":
            return json_response(BOT_USER)
        if call.path == "/oauth2/applications/@me":
            return json_response(_application())
        if parts[0] == "applications" and call.method == "PUT":
            return json_response(self._sync(parts, call.body or []))
        if parts[0] == "channels" and parts[2:3] == ["messages"]:
            if call.method == "POST":
                return json_response(self._create(parts[1], body))
            if call.method == "PATCH":
                return json_response(self._message(parts[1], body, message_id=parts[3]))
            if call.method == "GET" and len(parts) == 3:
                return json_response(self._history(parts[1], call.query))
        if parts[0] == "interactions":
            return json_response(self._callback(parts[1], body))
        if parts[0] == "webhooks":
            if call.method == "DELETE":
                return web.Response(status=204)
            return json_response(self._message(CHANNEL_ID, body, webhook_id=parts[1]))
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def _create(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None:
            existing = self._nonces.get((channel_id, str(nonce)))
            if existing is not None:
                return existing
        message = self._message(channel_id, body)
        self.messages.setdefault(channel_id, []).append(message)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = message
        return message

    def _history(self, channel_id: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET /channels/{id}/messages: newest first, paged by ``before`` or ``after``."""
        limit = int(query.get("limit") or 50)
        stored = sorted(self.messages.get(channel_id, []), key=lambda m: int(m["id"]))
        if "after" in query:
            after = int(query["after"])
            return list(reversed([m for m in stored if int(m["id"]) > after][:limit]))
        before = int(query.get("before") or 1 << 63)
        return list(reversed([m for m in stored if int(m["id"]) < before]))[:limit]

    def _new_id(self) -> str:
        """A snowflake of the current time, as Discord's ids are (history pages by them)."""
        self._last_id = max(discord.utils.time_snowflake(datetime.now(UTC)), self._last_id + 1)
        return str(self._last_id)

    def _message(self, channel_id: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {
            "id": extra.pop("message_id", None) or self._new_id(),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": "2026-11-26T12:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            **extra,
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        return message

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type", 0)
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            resource["message"] = self._message(CHANNEL_ID, body.get("data") or {})
        return {"interaction": {"id": interaction_id, "type": 2}, "resource": resource}

    def _sync(self, parts: list[str], commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scope = parts[3] if len(parts) > 4 and parts[2] == "guilds" else "global"
        stored = []
        for command in commands:
            item = {"id": self._new_id(), "application_id": APP_ID, "version": "1", **command}
            if scope != "global":
                item["guild_id"] = scope
            stored.append(item)
        self.commands[scope] = stored
        return stored

    # --- gateway -----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            op = json.loads(frame.data)["op"]
            self.calls.append(Call("WS", f"op={op}", dict(request.query), None))
            if op == 1:
                await socket.send_json({"op": 11})
            elif op == 2:
                await socket.send_json(
                    {
                        "op": 0,
                        "s": next(self._seq),
                        "t": "READY",
                        "d": {
                            "v": 10,
                            "user": BOT_USER,
                            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
                            "session_id": "session",
                            "resume_gateway_url": self.gateway_url,
                            "application": {"id": APP_ID, "flags": 0},
                        },
                    }
                )
                self._sockets.append(socket)
        if socket in self._sockets:
            self._sockets.remove(socket)
        return socket


def _application() -> dict[str, Any]:
    return {
        "id": APP_ID,
        "name": "newsbot",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": BOT_USER,
        "verify_key": "0" * 64,
        "flags": 0,
    }


# --- INTERACTION_CREATE payloads --------------------------------------------------------------

_interaction_ids = itertools.count(700_000_000_000_000_000)


def _member(permissions: str) -> dict[str, Any]:
    user = {
        "id": USER_ID,
        "username": "alice",
        "discriminator": "0",
        "global_name": "Alice",
        "avatar": None,
    }
    return {
        "user": user,
        "roles": [],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": permissions,
    }


def interaction(
    group: str,
    subcommand: str,
    options: dict[str, Any] | None = None,
    *,
    permissions: str = ADMIN_PERMISSIONS,
    focused: str | None = None,
    in_guild: bool = True,
    guild_id: str = GUILD_ID,
    channel_id: str = CHANNEL_ID,
    app_permissions: str = ADMIN_PERMISSIONS,
) -> dict[str, Any]:
    """A slash command (type 2), or an autocomplete request (type 4) when ``focused`` is set.

    ``app_permissions`` are the bot's own resolved permissions in the channel.
    """
    types = {bool: 5, int: 4, float: 10, str: 3}
    sub_options = [
        {"name": name, "type": types[type(value)], "value": value}
        | ({"focused": True} if name == focused else {})
        for name, value in (options or {}).items()
    ]
    interaction_id = str(next(_interaction_ids))
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": 4 if focused else 2,
        "token": INTERACTION_TOKEN_PREFIX + interaction_id + "-" + "x" * 60,
        "version": 1,
        "locale": "en-US",
        "app_permissions": app_permissions,
        "attachment_size_limit": 10_485_760,
        "entitlements": [],
        "data": {
            "id": "600000000000000006",
            "name": group,
            "type": 1,
            "options": [{"name": subcommand, "type": 1, "options": sub_options}],
        },
    }
    if in_guild:
        payload |= {
            "guild_id": guild_id,
            "context": 0,
            "authorizing_integration_owners": {"0": guild_id},
            "channel": {
                "id": channel_id,
                "type": 0,
                "name": "summits",
                "position": 0,
                "guild_id": guild_id,
                "permission_overwrites": [],
                "nsfw": False,
            },
            "channel_id": channel_id,
            "member": _member(permissions),
        }
    else:
        payload |= {
            "context": 1,
            "authorizing_integration_owners": {"1": USER_ID},
            "channel": {"id": "800000000000000008", "type": 1, "recipients": []},
            "channel_id": "800000000000000008",
            "user": _member(permissions)["user"],
        }
    return payload


async def deliver(client: Any, payload: dict[str, Any], timeout: float = 5.0) -> None:
    """Hand an INTERACTION_CREATE to the client as the gateway would, and wait for its handler."""
    before = set(asyncio.all_tasks())
    client._connection.parse_interaction_create(payload)
    started = [
        task for task in asyncio.all_tasks() - before if task.get_name() == "CommandTree-invoker"
    ]
    await asyncio.wait_for(asyncio.gather(*started), timeout)


@contextlib.asynccontextmanager
async def running_fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord that every discord.py client in the test talks to (any test dir)."""
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.rest_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    try:
        yield fake
    finally:
        await fake.close()
