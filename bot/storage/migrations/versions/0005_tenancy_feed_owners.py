"""feed owners (servers, workspaces, the operator) and one identity per feed URL

Existing feeds were global, added by the operator's CLI, the default list, or any server's
admin; nobody can tell which now, so each keeps polling and becomes the operator's: shared with
every server and workspace as before, removable from the CLI. Rows that are one feed under two
spellings (bot.core.feedurl) are merged into the oldest: its items stay, the other's new items
move over, and its owners join.

Revision ID: 0004_tenancy
Revises: 0003
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from bot.core.errors import InvalidInput
from bot.core.feedurl import identity

revision = "0004_tenancy"
down_revision = "0004_ingest"
branch_labels = None
depends_on = None

OPERATOR = "operator"


def _key(url: str) -> str:
    try:
        return identity(url)
    except InvalidInput:
        return "unreadable:" + url  # still unique: feeds.url is


def upgrade() -> None:
    op.create_table(
        "feed_owners",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("feed_id", "owner"),
    )
    op.create_index("ix_feed_owners_owner", "feed_owners", ["owner"])
    # A plain ADD COLUMN: SQLite's batch mode would drop and copy feeds, and with foreign keys
    # on, dropping it cascades to every item.
    op.add_column("feeds", sa.Column("url_key", sa.String(length=2048), nullable=True))
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    kept: dict[str, int] = {}
    for feed_id, url in bind.execute(sa.text("SELECT id, url FROM feeds ORDER BY id")).all():
        key = _key(url)
        first = kept.setdefault(key, feed_id)
        if first == feed_id:
            bind.execute(
                sa.text("UPDATE feeds SET url_key = :key WHERE id = :id"), {"key": key, "id": feed_id}
            )
            bind.execute(
                sa.text("INSERT INTO feed_owners (feed_id, owner, added_at) VALUES (:id, :o, :t)"),
                {"id": feed_id, "o": OPERATOR, "t": now},
            )
            continue
        bind.execute(
            sa.text(
                "UPDATE items SET feed_id = :first WHERE feed_id = :dup AND key NOT IN "
                "(SELECT key FROM items WHERE feed_id = :first)"
            ),
            {"first": first, "dup": feed_id},
        )
        bind.execute(sa.text("DELETE FROM items WHERE feed_id = :dup"), {"dup": feed_id})
        bind.execute(sa.text("DELETE FROM feeds WHERE id = :dup"), {"dup": feed_id})
    if bind.dialect.name == "postgresql":
        op.alter_column("feeds", "url_key", nullable=False)
    op.create_index("uq_feeds_url_key", "feeds", ["url_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_feeds_url_key", table_name="feeds")
    op.drop_column("feeds", "url_key")
    op.drop_index("ix_feed_owners_owner", table_name="feed_owners")
    op.drop_table("feed_owners")
