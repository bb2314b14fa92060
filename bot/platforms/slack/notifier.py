"""The Slack Notifier: posts alerts and digests with chat.postMessage, reconciled against history.

chat.postMessage has no idempotency key (RELIABILITY §3.2), so every post carries the outbox
key in its message ``metadata`` (event type ``newsbot_delivery``). Before posting to a channel
the notifier knows which keys are already there: it reads the channel's last messages once per
channel per process (``conversations.history`` with ``include_all_metadata``), remembers what it
posts itself, and reads history again after any ambiguous failure (timeout, 5xx, lost
connection), when Slack may have posted without telling us. A crash between send and commit is
therefore reconciled by the first history read of the next process: the row's key is found and
its ``ts`` returned instead of a second post. The Notifier interface has no attempt count, so
"first attempt" cannot be told apart from "re-sent after a crash"; this cache is what keeps the
check cheap. Only the last ``history_limit`` messages are read: a post buried under more than
that many newer messages before the restart would be posted again (logged by the outbox).

The Web API client given here must not retry on its own (``retry_handlers=[]``): a library retry
of a post whose answer was lost would double it behind our back; the outbox retries instead.
Slack's errors are translated into the core's delivery errors here and nowhere else (D4, D5).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.stories import Destination, Digest, StoryEvent
from bot.platforms.slack.render import Message, render_alert, render_digest, render_notice

log = logging.getLogger(__name__)

EVENT_TYPE = "newsbot_delivery"
HISTORY_LIMIT = 20
REMEMBERED_PER_CHANNEL = 500

GONE_ERRORS: Mapping[str, str] = {
    "channel_not_found": "the channel no longer exists or newsbot cannot see it",
    "not_in_channel": "newsbot is not a member of the channel (invite it with /invite @newsbot)",
    "is_archived": "the channel is archived",
    "account_inactive": "newsbot's Slack app was uninstalled or deactivated",
    "missing_scope": "newsbot's Slack app lacks a scope: reinstall it from the manifest",
    "invalid_auth": "newsbot's Slack token is no longer valid",
    "token_revoked": "newsbot's Slack token was revoked",
    "restricted_action": "the workspace does not allow newsbot to post in that channel",
}
# Answers after which Slack may or may not have posted the message.
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "timeout"})


def page_key(key: str, page: int) -> str:
    """The metadata key of page ``page`` of the message with outbox key ``key``."""
    return key if page == 0 else f"{key}~{page:02d}"


class SlackNotifier:
    """Posts to Slack channels for the delivery worker; implements ``bot.core.ports.Notifier``."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        timeout: float = 30.0,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._history_limit = history_limit
        # channel → {metadata key: ts}; present only while we know it is up to date.
        self._posted: dict[str, OrderedDict[str, str]] = {}

    async def send_alert(self, destination: Destination, event: StoryEvent, key: str) -> str:
        """Post one alert; returns the message ``ts``."""
        return await self._send(destination, [render_alert(event)], key)

    async def send_digest(self, destination: Destination, digest: Digest, key: str) -> str:
        """Post a digest (one message, or a few when it is long); returns the first ``ts``."""
        return await self._send(destination, render_digest(digest), key)

    async def notify_admins(self, destination: Destination, reason: str) -> None:
        """Leave a short notice in the channel when Slack still lets us; else log it."""
        notice = render_notice(reason, destination.channel_id)
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.chat_postMessage(
                    channel=destination.channel_id, unfurl_links=False, **notice.payload()
                )
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            log.info("could not leave a notice in %s: %s", _where(destination), _short(exc))
            log.warning("newsbot stopped posting to %s: %s", _where(destination), reason)

    async def _send(self, destination: Destination, pages: Sequence[Message], key: str) -> str:
        if destination.platform != "slack" or not destination.channel_id.strip():
            raise DestinationGone(f"{destination.channel_id!r} is not a Slack channel id")
        channel = destination.channel_id.strip()
        first: str | None = None
        async with self._errors(destination, channel), asyncio.timeout(self._timeout):
            posted = await self._known(channel)
            for page, message in enumerate(pages):
                marker = page_key(key, page)
                ts = posted.get(marker)
                if ts is not None:
                    log.info(
                        "outbox row %s is already in %s as %s: not posting it again",
                        marker,
                        _where(destination),
                        ts,
                    )
                else:
                    ts = await self._post(channel, message, marker)
                    self._remember(channel, marker, ts)
                first = first or ts
        if first is None:
            raise DeliveryError("nothing to send")
        return first

    async def _post(self, channel: str, message: Message, marker: str) -> str:
        response = await self._client.chat_postMessage(
            channel=channel,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"key": marker}},
            unfurl_links=False,
            unfurl_media=False,
            **message.payload(),
        )
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise DeliveryError("Slack accepted the message but returned no ts")
        return ts

    async def _known(self, channel: str) -> OrderedDict[str, str]:
        """Our keys among the channel's last messages (read once, then kept up to date)."""
        known = self._posted.get(channel)
        if known is not None:
            return known
        response = await self._client.conversations_history(
            channel=channel, limit=self._history_limit, include_all_metadata=True
        )
        known = OrderedDict()
        messages = cast("list[dict[str, Any]]", response.get("messages") or [])
        for message in reversed(messages):
            marker = _marker(message)
            if marker is not None and isinstance(message.get("ts"), str):
                known[marker] = message["ts"]
        self._posted[channel] = known
        return known

    def _remember(self, channel: str, marker: str, ts: str) -> None:
        known = self._posted.setdefault(channel, OrderedDict())
        known[marker] = ts
        while len(known) > REMEMBERED_PER_CHANNEL:
            known.popitem(last=False)

    def _forget(self, channel: str) -> None:
        """Slack may have posted without telling us: read history before the next post."""
        self._posted.pop(channel, None)

    @contextlib.asynccontextmanager
    async def _errors(self, destination: Destination, channel: str) -> AsyncIterator[None]:
        """Translate slack_sdk and transport errors into the core delivery errors."""
        try:
            yield
        except SlackApiError as exc:
            status = int(getattr(exc.response, "status_code", 0) or 0)
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error") or "")
            if status == 429 or error == "ratelimited":
                retry_after = _retry_after(exc.response.headers)
                raise RateLimited(
                    f"Slack asked newsbot to wait {retry_after or 'a while'} s before posting",
                    retry_after=retry_after,
                ) from exc
            if error in GONE_ERRORS:
                raise DestinationGone(f"{GONE_ERRORS[error]} (Slack: {error})") from exc
            if status >= 500 or error in AMBIGUOUS_ERRORS:
                self._forget(channel)
            raise DeliveryError(
                f"Slack refused the message ({status}: {error or 'no error code'})"
            ) from exc
        except TimeoutError as exc:
            self._forget(channel)
            raise DeliveryError("Slack did not answer in time") from exc
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            self._forget(channel)
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}") from exc
        else:
            log.debug("delivered to %s", _where(destination))


def _marker(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    key = payload.get("key") if isinstance(payload, Mapping) else None
    return key if isinstance(key, str) else None


def _retry_after(headers: Any) -> float | None:
    """Retry-After from slack_sdk's response headers (a dict or aiohttp's case-free mapping)."""
    if not isinstance(headers, Mapping):
        return None
    value = next(
        (v for k, v in headers.items() if isinstance(k, str) and k.lower() == "retry-after"),
        None,
    )
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _where(destination: Destination) -> str:
    team = f" in workspace {destination.workspace_id}" if destination.workspace_id else ""
    return f"channel {destination.channel_id}{team}"


def _short(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return str(exc.response.data.get("error") or type(exc).__name__)
    return type(exc).__name__
