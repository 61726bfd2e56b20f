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
    if op.get_bind().dialect.name == "postgresql":
        year = "CAST(EXTRACT(YEAR FROM s.held_on) AS INTEGER)"
    else:
        year = "CAST(strftime('%Y', s.held_on) AS INTEGER)"
    op.execute(
        f"""
        INSERT INTO lessons_learner_year (cohort_id, user_id, year, marks, sex, year_rows)
        SELECT s.cohort_id, a.user_id, {year}, COUNT(*), u.sex, 1
        FROM lessons_attendance a JOIN lessons_session s ON s.id = a.session_id
        JOIN lms_user u ON u.id = a.user_id
        WHERE s.status = 'held' AND a.status = 'present'
        GROUP BY s.cohort_id, a.user_id, {year}, u.sex
        """
    )
    op.execute(
        f"""
        INSERT INTO lessons_cohort_year (cohort_id, year, sessions, minutes, learners_female,
            learners_male, marks_female, marks_male)
        SELECT s.cohort_id, {year}, COUNT(*), COALESCE(SUM(s.duration_minutes), 0), 0, 0, 0, 0
        FROM lessons_session s WHERE s.status = 'held'
        GROUP BY s.cohort_id, {year}
        """
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
    for sex in ("female", "male"):
        op.execute(
            f"""
            UPDATE lessons_cohort_year SET
                learners_{sex} = (
                    SELECT COUNT(*) FROM lessons_learner_year r
                    WHERE r.cohort_id = lessons_cohort_year.cohort_id
                      AND r.year = lessons_cohort_year.year AND r.sex = '{sex}'),
                marks_{sex} = (
                    SELECT COALESCE(SUM(r.marks), 0) FROM lessons_learner_year r
                    WHERE r.cohort_id = lessons_cohort_year.cohort_id
                      AND r.year = lessons_cohort_year.year AND r.sex = '{sex}')
            """
        )


def downgrade():
    op.drop_table("lessons_cohort_year")
    with op.batch_alter_table("lessons_learner_year", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_learner_year_several")
        batch_op.drop_index("ix_lessons_learner_year_year_user")
    op.drop_table("lessons_learner_year")
