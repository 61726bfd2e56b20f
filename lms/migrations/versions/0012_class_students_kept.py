"""students reached kept per year, manual, madrasa and sex (see lms/cohorts/totals.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:50:00

"""

from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: ``lms.cohorts.totals.ALL_YEARS`` and ``EVERY_MANUAL``, as they were when this was written.
ALL_YEARS = 0
EVERY_MANUAL = "*"


def upgrade():
    op.create_table(
        "lms_class_students",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("manual", sa.String(length=64), nullable=False),
        sa.Column("madrasa_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["madrasa_id"],
            ["lms_madrasa.id"],
            name=op.f("fk_lms_class_students_madrasa_id_lms_madrasa"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "year", "manual", "madrasa_id", "region_id", "sex", name=op.f("pk_lms_class_students")
        ),
    )
    op.create_table(
        "lms_class_student_mover",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("manual", sa.String(length=64), nullable=False),
        sa.Column("madrasa_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("places", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["madrasa_id"],
            ["lms_madrasa.id"],
            name=op.f("fk_lms_class_student_mover_madrasa_id_lms_madrasa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_class_student_mover_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id",
            "year",
            "manual",
            "madrasa_id",
            "region_id",
            name=op.f("pk_lms_class_student_mover"),
        ),
    )
    with op.batch_alter_table("lms_class_student_mover", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lms_class_student_mover_places", ["year", "manual", "sex", "places"], unique=False
        )
    op.create_table(
        "lms_class_student_overlap",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("manual", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("places", sa.Text(), nullable=False),
        sa.Column("madrasa_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["madrasa_id"],
            ["lms_madrasa.id"],
            name=op.f("fk_lms_class_student_overlap_madrasa_id_lms_madrasa"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "year",
            "manual",
            "sex",
            "places",
            "madrasa_id",
            "region_id",
            name=op.f("pk_lms_class_student_overlap"),
        ),
    )
    _fill()


def _years(starts_on, ends_on):
    if starts_on is None:
        return [ALL_YEARS]
    last = (ends_on or starts_on).year
    return [ALL_YEARS, *range(starts_on.year, last + 1)]


def _fill():
    """The figures of the memberships already recorded (``lms.cohorts.totals`` keeps them
    after): the same counting, written here so that later changes to it do not change
    what this migration did."""
    membership = sa.table(
        "lms_membership",
        sa.column("cohort_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("role", sa.String),
    )
    cohort = sa.table(
        "lms_cohort",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("madrasa_id", sa.Integer),
        sa.column("region_id", sa.Integer),
        sa.column("manual", sa.String),
        sa.column("starts_on", sa.Date),
        sa.column("ends_on", sa.Date),
    )
    madrasa = sa.table("lms_madrasa", sa.column("id", sa.Integer), sa.column("region_id", sa.Integer))
    user = sa.table("lms_user", sa.column("id", sa.Integer), sa.column("sex", sa.String))
    rows = op.get_bind().execute(
        sa.select(
            membership.c.user_id,
            user.c.sex,
            cohort.c.madrasa_id,
            sa.func.coalesce(cohort.c.region_id, madrasa.c.region_id),
            cohort.c.manual,
            cohort.c.starts_on,
            cohort.c.ends_on,
        )
        .select_from(
            membership.join(cohort, cohort.c.id == membership.c.cohort_id)
            .join(madrasa, madrasa.c.id == cohort.c.madrasa_id)
            .join(user, user.c.id == membership.c.user_id)
        )
        .where(membership.c.role == "student", cohort.c.kind == "class")
    )
    students = defaultdict(set)
    places = defaultdict(set)
    sexes = {}
    for user_id, sex, madrasa_id, region_id, manual, starts_on, ends_on in rows:
        sexes[user_id] = sex
        for year in _years(starts_on, ends_on):
            for manual_key in (manual, EVERY_MANUAL):
                students[(year, manual_key, madrasa_id, region_id, sex)].add(user_id)
                places[(user_id, year, manual_key)].add((madrasa_id, region_id))
    kept = sa.table(
        "lms_class_students",
        *(sa.column(name) for name in ("year", "manual", "madrasa_id", "region_id", "sex", "students")),
    )
    movers = sa.table(
        "lms_class_student_mover",
        *(
            sa.column(name)
            for name in ("user_id", "year", "manual", "madrasa_id", "region_id", "sex", "places")
        ),
    )
    overlap = sa.table(
        "lms_class_student_overlap",
        *(
            sa.column(name)
            for name in ("year", "manual", "sex", "places", "madrasa_id", "region_id", "students")
        ),
    )
    kept_rows = [
        {"year": y, "manual": m, "madrasa_id": d, "region_id": r, "sex": s, "students": len(who)}
        for (y, m, d, r, s), who in students.items()
    ]
    mover_rows = []
    overlaps = defaultdict(int)
    for (u, y, m), where in places.items():
        if len(where) < 2:
            continue
        key = ",".join(f"{d}:{r}" for d, r in sorted(where))
        for d, r in where:
            mover_rows.append(
                {"user_id": u, "year": y, "manual": m, "madrasa_id": d, "region_id": r,
                 "sex": sexes[u], "places": key}
            )
            overlaps[(y, m, sexes[u], key, d, r)] += 1
    overlap_rows = [
        {"year": y, "manual": m, "sex": s, "places": k, "madrasa_id": d, "region_id": r,
         "students": n}
        for (y, m, s, k, d, r), n in overlaps.items()
    ]
    for table, values in ((kept, kept_rows), (movers, mover_rows), (overlap, overlap_rows)):
        for start in range(0, len(values), 1000):
            op.get_bind().execute(table.insert(), values[start : start + 1000])


def downgrade():
    op.drop_table("lms_class_student_overlap")
    with op.batch_alter_table("lms_class_student_mover", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_class_student_mover_places")
    op.drop_table("lms_class_student_mover")
    op.drop_table("lms_class_students")
