"""the newest ledger record of one item from an index (practice lessons in the report)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:45:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lms_progress_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lms_progress_record_item_newest", ["item_type", "item_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lms_progress_record", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_progress_record_item_newest")
