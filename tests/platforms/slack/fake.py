"""A fake Slack on 127.0.0.1: the Web API, response_url and file uploads, every request recorded.

The real slack_sdk ``AsyncWebClient`` talks to it through ``base_url``; channels keep the
messages posted to them (with their metadata) so ``conversations.history`` answers like Slack.
Failures are queued per method with ``fail``; ``lose_answer`` posts a message but answers 500,
as when Slack commits a post and the answer is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

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
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.base = ""
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self.api)
        self.app.router.add_post("/response/{id}", self.response_url)
        self.app.router.add_post("/upload/{id}", self.upload)

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
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.responses.get(response_id, [])) >= count)

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
        ts = f"1700000000.{next(self._ts):06d}"
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
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        newest_first = list(reversed(self.channels.get(params["channel"], [])))[:limit]
        messages = [
            {k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in newest_first
        ]
        return {"ok": True, "messages": messages, "has_more": False}

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


def command_body(
    fake: FakeSlack,
    command: str,
    text: str,
    *,
    user: str = ADMIN,
    channel: str = CHANNEL_ID,
    trigger: str | None = None,
) -> tuple[str, str]:
    """A slash command's form body and its response_url id."""
    trigger = trigger or f"{next(_triggers)}.{time.monotonic_ns()}.abc"
    response_id = hashlib.sha1(trigger.encode()).hexdigest()[:12]
    body = urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "news",
            "user_id": user,
            "user_name": "someone",
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": f"{fake.base}/response/{response_id}",
            "trigger_id": trigger,
        }
    )
    return body, response_id
