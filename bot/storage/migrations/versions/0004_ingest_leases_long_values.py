"""ingest: feed identity for item keys, per-feed and named leases for replicas, long links

Revision ID: 0004_ingest
Revises: 0003
Create Date: 2026-12-02 04:30:00

``feeds.identity`` is the URL a feed was added with; it never follows a redirect, so keys of
relative GUIDs stay the same when a feed moves. ``feeds.lease_owner``/``lease_until`` let
replicas on one PostgreSQL database poll each feed once. ``leases`` holds named leases (the
replica that owns the chat connections and delivery). On PostgreSQL item and story links
become unbounded text, and the link index is a hash index there: a B-tree refuses entries of
more than about 2,700 bytes, a hash index takes any length.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_ingest"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode: rebuilding ``feeds`` on SQLite would drop it, and
    # with foreign keys on that cascades to every item.
    op.add_column("feeds", sa.Column("identity", sa.Text(), nullable=True))
    op.add_column("feeds", sa.Column("lease_owner", sa.String(length=100), nullable=True))
    op.add_column("feeds", sa.Column("lease_until", sa.DateTime(), nullable=True))
    op.execute("UPDATE feeds SET identity = url")
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.drop_index("ix_items_feed_link", table_name="items")
    op.create_index("ix_items_link", "items", ["link"], postgresql_using="hash")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("items", "link", type_=sa.Text(), existing_nullable=True)
        op.alter_column("story_sources", "link", type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("story_sources", "link", type_=sa.String(length=2048))
        op.alter_column("items", "link", type_=sa.String(length=2048))
    op.drop_index("ix_items_link", table_name="items")
    op.create_index("ix_items_feed_link", "items", ["feed_id", "link"])
    op.drop_table("leases")
    op.drop_column("feeds", "lease_until")
    op.drop_column("feeds", "lease_owner")
    op.drop_column("feeds", "identity")
