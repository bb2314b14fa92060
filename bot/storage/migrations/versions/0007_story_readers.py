"""story events and fact changes name the reports behind them (per-tenant story visibility)

An alert goes only to channels that read a feed of a report that caused it, and a fact change
is shown only to channels that read its report. Existing rows get NULL: older events route to
every reader of the story, as before, and older changes are shown only in a story's full view.

Revision ID: 0007_story_readers
Revises: 0004_stories_terms
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_story_readers"
down_revision = "0004_stories_terms"
branch_labels = None
depends_on = None

ITEM_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: no table copy on SQLite, no rewrite on PostgreSQL.
    op.add_column("story_events", sa.Column("item_ids", sa.JSON(), nullable=True))
    op.add_column("story_changes", sa.Column("item_id", ITEM_ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_changes") as batch:
        batch.drop_column("item_id")
    with op.batch_alter_table("story_events") as batch:
        batch.drop_column("item_ids")
