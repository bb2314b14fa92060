"""SQLAlchemy tables: the one place the schema is described (migrations mirror it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend and hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to naive UTC so SQLite and PostgreSQL compare the same way."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reattach UTC so callers never see naive datetimes."""
        return None if value is None else value.replace(tzinfo=UTC)


# Links of any length: SQLite never enforces a VARCHAR length, PostgreSQL would.
LINK = String(2048).with_variant(Text(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every newsbot table."""


class FeedRow(Base):
    """A polled feed: one row per feed (``url_key``, see bot.core.feedurl), whoever owns it."""

    __tablename__ = "feeds"
    __table_args__ = (Index("uq_feeds_url_key", "url_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    url_key: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(String(500))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    disabled_reason: Mapped[str | None] = mapped_column(String(1000))
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The URL the feed was added with: relative GUIDs are keyed against it, so a move
    # (an adopted 301, a changing 302 target) re-announces nothing.
    identity: Mapped[str | None] = mapped_column(Text)
    # Which replica polls the feed right now, and until when (see Store.claim_feed).
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedOwnerRow(Base):
    """A server, workspace or the operator subscribed to a feed (bot.core.tenancy)."""

    __tablename__ = "feed_owners"
    __table_args__ = (Index("ix_feed_owners_owner", "owner"),)

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemRow(Base):
    """An item seen in a feed; the unique key makes re-emitted items no-ops."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
        # A hash index on PostgreSQL: a B-tree refuses links of more than about 2,700 bytes.
        Index("ix_items_link", "link", postgresql_using="hash"),
        Index("ix_items_pending", "pending", "first_seen"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(600))
    link: Mapped[str | None] = mapped_column(LINK)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    pending: Mapped[bool] = mapped_column(Boolean, default=False)


class LeaseRow(Base):
    """A named lease one replica holds until ``until`` (e.g. the chat connections)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class MetaRow(Base):
    """Small facts about the installation itself (e.g. defaults already loaded)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))


class AnalysisRow(Base):
    """What the summit extractor concluded about an item, kept with its reasons."""

    __tablename__ = "analyses"
    __table_args__ = (Index("ix_analyses_summit", "is_summit", "created_at"),)

    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("items.id", ondelete="CASCADE"),
        primary_key=True,
    )
    is_summit: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Stories, subscriptions and delivery (the §3.5 outbox).


class StoryRow(Base):
    """A summit told by one or more reports, with its merged facts."""

    __tablename__ = "stories"
    __table_args__ = (
        Index("ix_stories_updated", "updated_at"),
        Index("ix_stories_start", "start_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    quotes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StorySourceRow(Base):
    """One report of a story; an item belongs to at most one story."""

    __tablename__ = "story_sources"
    __table_args__ = (Index("ix_story_sources_story", "story_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("items.id", ondelete="CASCADE"),
        unique=True,
    )
    title: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(LINK)
    outlet: Mapped[str | None] = mapped_column(String(500))
    published: Mapped[datetime] = mapped_column(UTCDateTime)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    quotes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    terms: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoryChangeRow(Base):
    """A key fact of a story that changed (venue announced, dates moved, cancelled…)."""

    __tablename__ = "story_changes"
    __table_args__ = (Index("ix_story_changes_story", "story_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(String(1000))
    new: Mapped[str | None] = mapped_column(String(1000))
    # The report that changed it (no foreign key: a pruned item leaves the history readable).
    item_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class StoryEventRow(Base):
    """A new story or an update, kept until routed into outbox rows (same transaction)."""

    __tablename__ = "story_events"
    __table_args__ = (Index("ix_story_events_routed", "routed", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The reports that caused it; None (older events): the story's every report.
    item_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    routed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DestinationRow(Base):
    """A chat channel; disabled once, with a reason, when it is gone or forbidden."""

    __tablename__ = "destinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(String(100))
    workspace_id: Mapped[str | None] = mapped_column(String(100))
    disabled_reason: Mapped[str | None] = mapped_column(String(1000))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriptionRow(Base):
    """A destination's alert/digest settings: at most one per destination."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_digest", "next_digest_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("destinations.id", ondelete="CASCADE"), unique=True
    )
    mode: Mapped[str] = mapped_column(String(10))
    schedule: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WatchRow(Base):
    """A name or keyword a destination is alerted about in any story."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("destination_id", "term_key", name="uq_watches_term"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(100))
    term_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """One message for one destination; the unique delivery key makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before", "id"),
        Index("ix_outbox_destination", "destination_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(25), unique=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("story_events.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(1000))
