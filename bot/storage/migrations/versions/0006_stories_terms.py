"""story sources keep the names and summit series their text mentions (merging evidence)

Revision ID: 0004_stories_terms
Revises: 0003
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stories_terms"
down_revision = "0004_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("story_sources") as batch:
        batch.add_column(sa.Column("terms", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("story_sources") as batch:
        batch.drop_column("terms")
