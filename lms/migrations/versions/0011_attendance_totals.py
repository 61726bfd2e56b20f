"""attendance totals kept per learner and year, and per cohort and year (see lessons/totals.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lessons_learner_year",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("year_rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lessons_learner_year_cohort_id_lms_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lessons_learner_year_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", "year", name=op.f("pk_lessons_learner_year")),
    )
    with op.batch_alter_table("lessons_learner_year", schema=None) as batch_op:
        batch_op.create_index("ix_lessons_learner_year_year_user", ["year", "user_id"], unique=False)
        batch_op.create_index(
            "ix_lessons_learner_year_several",
            ["year"],
            unique=False,
            postgresql_where=sa.text("year_rows > 1"),
            sqlite_where=sa.text("year_rows > 1"),
        )
    op.create_table(
        "lessons_cohort_year",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("learners_female", sa.Integer(), nullable=False),
        sa.Column("learners_male", sa.Integer(), nullable=False),
        sa.Column("marks_female", sa.Integer(), nullable=False),
        sa.Column("marks_male", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lessons_cohort_year_cohort_id_lms_cohort"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", "year", name=op.f("pk_lessons_cohort_year")),
    )
    _fill()


def _fill():
    """The totals of the attendance already recorded (``lessons.totals`` keeps them after)."""
    session = sa.table(
        "lessons_session",
        sa.column("id", sa.Integer),
        sa.column("cohort_id", sa.Integer),
        sa.column("held_on", sa.Date),
        sa.column("status", sa.String),
        sa.column("duration_minutes", sa.Integer),
    )
    attendance = sa.table(
        "lessons_attendance",
        sa.column("session_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("status", sa.String),
    )
    user = sa.table("lms_user", sa.column("id", sa.Integer), sa.column("sex", sa.String))
    learner_year = sa.table(
        "lessons_learner_year",
        *(sa.column(name) for name in ("cohort_id", "user_id", "year", "marks", "sex", "year_rows")),
    )
    totals_columns = (
        "cohort_id",
        "year",
        "sessions",
        "minutes",
        "learners_female",
        "learners_male",
        "marks_female",
        "marks_male",
    )
    cohort_year = sa.table("lessons_cohort_year", *(sa.column(name) for name in totals_columns))
    year = sa.cast(sa.extract("year", session.c.held_on), sa.Integer)
    op.execute(
        learner_year.insert().from_select(
            ["cohort_id", "user_id", "year", "marks", "sex", "year_rows"],
            sa.select(
                session.c.cohort_id,
                attendance.c.user_id,
                year,
                sa.func.count(),
                user.c.sex,
                sa.literal(1),
            )
            .select_from(
                attendance.join(session, session.c.id == attendance.c.session_id).join(
                    user, user.c.id == attendance.c.user_id
                )
            )
            .where(session.c.status == "held", attendance.c.status == "present")
            .group_by(session.c.cohort_id, attendance.c.user_id, year, user.c.sex),
        )
    )
    op.execute(
        cohort_year.insert().from_select(
            list(totals_columns),
            sa.select(
                session.c.cohort_id,
                year,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(session.c.duration_minutes), 0),
                *(sa.literal(0) for _ in range(4)),
            )
            .where(session.c.status == "held")
            .group_by(session.c.cohort_id, year),
        )
    )
    # Year 0: over all time (``lessons.totals.ALL_YEARS``).
    op.execute(
        """
        INSERT INTO lessons_learner_year (cohort_id, user_id, year, marks, sex, year_rows)
        SELECT cohort_id, user_id, 0, SUM(marks), MIN(sex), 1
        FROM lessons_learner_year GROUP BY cohort_id, user_id
        """
    )
    op.execute(
        """
        INSERT INTO lessons_cohort_year (cohort_id, year, sessions, minutes, learners_female,
            learners_male, marks_female, marks_male)
        SELECT cohort_id, 0, SUM(sessions), SUM(minutes), 0, 0, 0, 0
        FROM lessons_cohort_year GROUP BY cohort_id
        """
    )
    op.execute(
        """
        UPDATE lessons_learner_year SET year_rows = (
            SELECT COUNT(*) FROM lessons_learner_year other
            WHERE other.user_id = lessons_learner_year.user_id
              AND other.year = lessons_learner_year.year)
        """
    )
    op.execute(
        """
        UPDATE lessons_cohort_year SET
            learners_female = (
                SELECT COUNT(*) FROM lessons_learner_year r
                WHERE r.cohort_id = lessons_cohort_year.cohort_id
                  AND r.year = lessons_cohort_year.year AND r.sex = 'female'),
            marks_female = (
                SELECT COALESCE(SUM(r.marks), 0) FROM lessons_learner_year r
                WHERE r.cohort_id = lessons_cohort_year.cohort_id
                  AND r.year = lessons_cohort_year.year AND r.sex = 'female'),
            learners_male = (
                SELECT COUNT(*) FROM lessons_learner_year r
                WHERE r.cohort_id = lessons_cohort_year.cohort_id
                  AND r.year = lessons_cohort_year.year AND r.sex = 'male'),
            marks_male = (
                SELECT COALESCE(SUM(r.marks), 0) FROM lessons_learner_year r
                WHERE r.cohort_id = lessons_cohort_year.cohort_id
                  AND r.year = lessons_cohort_year.year AND r.sex = 'male')
        """
    )


def downgrade():
    op.drop_table("lessons_cohort_year")
    with op.batch_alter_table("lessons_learner_year", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_learner_year_several")
        batch_op.drop_index("ix_lessons_learner_year_year_user")
    op.drop_table("lessons_learner_year")
