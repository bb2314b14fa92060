"""Delivery records shared by the router, the digest scheduler, the outbox and storage."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.stories import Destination, Digest, StoryEvent, Subscription

OutboxKind = Literal["alert", "digest"]
OutboxStatus = Literal["pending", "sending", "sent", "failed", "expired"]
KEY_LENGTH = 24  # Discord accepts a nonce of at most 25 characters.


def destination_key(destination: Destination) -> str:
    """The stable text that names a destination (unique per platform and workspace)."""
    return f"{destination.platform}:{destination.workspace_id or '-'}:{destination.channel_id}"


def delivery_key(*parts: object) -> str:
    """A deterministic 24-character key (base32 of a hash), usable as a Discord nonce."""
    digest = hashlib.blake2b("\x1f".join(str(part) for part in parts).encode(), digest_size=15)
    return base64.b32encode(digest.digest()).decode("ascii").lower()


def alert_key(event_id: int, destination: Destination) -> str:
    """The delivery key of one story event for one destination."""
    return delivery_key("alert", event_id, destination_key(destination))


def digest_key(destination: Destination, scheduled_at: datetime) -> str:
    """The delivery key of the digest scheduled at ``scheduled_at`` for a destination."""
    return delivery_key("digest", destination_key(destination), scheduled_at.isoformat())


def welcome_key(destination: Destination) -> str:
    """The delivery key of the one short digest a destination gets when first subscribed."""
    return delivery_key("welcome", destination_key(destination))


@dataclass(frozen=True, slots=True)
class Watch:
    """A destination alerted about any story that mentions ``term``."""

    destination: Destination
    term: str


@dataclass(frozen=True, slots=True)
class DueDigest:
    """A subscription whose digest time has come."""

    subscription: Subscription
    scheduled_at: datetime
    since: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row with what it carries: a story event or a digest."""

    id: int
    key: str
    destination_id: int
    destination: Destination
    kind: OutboxKind
    status: OutboxStatus
    attempts: int
    created_at: datetime
    claimed_at: datetime | None
    not_before: datetime
    event: StoryEvent | None = None
    digest: Digest | None = None
