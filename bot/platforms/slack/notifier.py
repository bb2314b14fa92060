"""The Slack Notifier: posts alerts and digests with chat.postMessage, reconciled against history.

chat.postMessage has no idempotency key (RELIABILITY §3.2), so every post carries the outbox
key in its message ``metadata`` (event type ``newsbot_delivery``). When an earlier attempt of
a row may have posted (a crash, a timeout, a 5xx, a lost connection), the outbox passes
``since``: the notifier then pages ``conversations.history`` (with ``include_all_metadata``)
back to ``since`` and returns the ``ts`` of a message carrying the key instead of posting a
second one, however many messages arrived in the channel meanwhile. A first attempt posts
without reading history.

The Web API client given here must not retry on its own (``retry_handlers=[]``): a library retry
of a post whose answer was lost would double it behind our back; the outbox retries instead.
Slack's errors are translated into the core's delivery errors here and nowhere else (D4, D5).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import DeliveryError, DestinationGone, RateLimited
from bot.core.stories import Destination, Digest, StoryEvent
from bot.platforms.slack.render import Message, render_alert, render_digest, render_notice

log = logging.getLogger(__name__)

EVENT_TYPE = "newsbot_delivery"
HISTORY_PAGE = 200
HISTORY_PAGES = 50
# Clocks differ: history is read from a little before the row was queued.
CLOCK_SKEW = timedelta(minutes=2)
READY_BACKOFF_MAX = 60.0

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


def page_key(key: str, page: int) -> str:
    """The metadata key of page ``page`` of the message with outbox key ``key``."""
    return key if page == 0 else f"{key}~{page:02d}"


class SlackNotifier:
    """Posts to Slack channels for the delivery worker; implements ``bot.core.ports.Notifier``."""

    platform = "slack"
    held_output = None  # posts can be read back: the outbox looks for their markers
    in_flight = timedelta(seconds=35)  # our post timeout is 30 s

    def __init__(self, client: AsyncWebClient, *, timeout: float = 30.0) -> None:
        self._client = client
        self._timeout = timeout

    async def ready(self) -> None:
        """Return once ``auth.test`` accepts the token; transient failures are retried."""
        delay = 1.0
        while True:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._client.auth_test()
                return
            except SlackApiError as exc:
                error = _short(exc)
                if error in GONE_ERRORS:
                    raise DeliveryError(f"{GONE_ERRORS[error]} (Slack: {error})") from exc
                log.warning("Slack auth.test failed (%s); retrying in %.0f s", error, delay)
            except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
                log.warning("Slack auth.test failed (%s); retrying in %.0f s", _short(exc), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, READY_BACKOFF_MAX)

    async def send_alert(
        self, destination: Destination, event: StoryEvent, key: str, since: datetime | None = None
    ) -> str:
        """Post one alert (unless already posted since ``since``); returns the message ``ts``."""
        return await self._send(destination, [render_alert(event)], key, since)

    async def send_digest(
        self, destination: Destination, digest: Digest, key: str, since: datetime | None = None
    ) -> str:
        """Post a digest (one message, or a few when it is long); returns the first ``ts``."""
        return await self._send(destination, render_digest(digest), key, since)

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

    async def _send(
        self,
        destination: Destination,
        pages: Sequence[Message],
        key: str,
        since: datetime | None,
    ) -> str:
        if destination.platform != "slack" or not destination.channel_id.strip():
            raise DestinationGone(f"{destination.channel_id!r} is not a Slack channel id")
        channel = destination.channel_id.strip()
        first: str | None = None
        async with self._errors(destination), asyncio.timeout(self._timeout):
            posted = {} if since is None else await self._posted(channel, since)
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

    async def _posted(self, channel: str, since: datetime) -> dict[str, str]:
        """Our keys among the channel's messages since ``since`` (key → ts), every page read."""
        found: dict[str, str] = {}
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            response = await self._client.conversations_history(
                channel=channel,
                oldest=oldest,
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in cast("list[dict[str, Any]]", response.get("messages") or []):
                marker = _marker(message)
                if marker is not None and isinstance(message.get("ts"), str):
                    found.setdefault(marker, message["ts"])
            metadata = response.get("response_metadata")
            cursor = metadata.get("next_cursor") if isinstance(metadata, Mapping) else None
            if not response.get("has_more") or not cursor:
                return found
        log.warning(
            "channel %s has more than %d messages since %s: reconciled the newest only",
            channel,
            HISTORY_PAGE * HISTORY_PAGES,
            since.isoformat(),
        )
        return found

    @contextlib.asynccontextmanager
    async def _errors(self, destination: Destination) -> AsyncIterator[None]:
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
            raise DeliveryError(
                f"Slack refused the message ({status}: {error or 'no error code'})"
            ) from exc
        except TimeoutError as exc:
            raise DeliveryError("Slack did not answer in time") from exc
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
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
