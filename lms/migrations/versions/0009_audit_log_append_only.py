"""audit log append-only

The database itself refuses to change or delete audit entries: a trigger on PostgreSQL and
two on SQLite raise an error on any ``UPDATE`` or ``DELETE`` of ``lms_audit_entry``, whoever
sends it. ``INSERT`` is untouched (the application appends), and so is ``TRUNCATE`` (the
test suite and ``lms restore`` empty whole databases; an emptied log is caught by
``lms audit verify --anchor``). Deleting a user who has audit entries is refused too (the
foreign key would set ``actor_id`` to NULL): accounts are disabled or anonymised instead.

There is no way to archive old entries from the application, by design. An administrator
who must (see docs/security.md) exports the log with ``lms audit export``, keeps that file,
and as the owner of the table disables the trigger for the one transaction that deletes.

A later migration that rebuilds this table on SQLite (a batch "move and copy") drops these
triggers with the old table and must create them again (``create_sqlite_triggers``).

Also: indexes for a person's entries (privacy export) and an object's history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:10:56.193649

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MESSAGE = "lms_audit_entry is append-only: audit entries are never changed or deleted"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lms_audit_entry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER lms_audit_entry_append_only
BEFORE UPDATE OR DELETE ON lms_audit_entry
FOR EACH ROW EXECUTE FUNCTION lms_audit_entry_refuse_change()
"""

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER lms_audit_entry_no_update BEFORE UPDATE ON lms_audit_entry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER lms_audit_entry_no_delete BEFORE DELETE ON lms_audit_entry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]


def create_sqlite_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade():
    with op.batch_alter_table("lms_audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_lms_audit_entry_actor_id", ["actor_id"], unique=False)
        batch_op.create_index(
            "ix_lms_audit_entry_object", ["object_type", "object_id"], unique=False
        )

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    elif dialect == "sqlite":
        create_sqlite_triggers()


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS lms_audit_entry_append_only ON lms_audit_entry")
        op.execute("DROP FUNCTION IF EXISTS lms_audit_entry_refuse_change()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS lms_audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS lms_audit_entry_no_delete")

    with op.batch_alter_table("lms_audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_audit_entry_object")
        batch_op.drop_index("ix_lms_audit_entry_actor_id")
