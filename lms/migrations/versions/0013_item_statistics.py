"""item-analysis counts kept per quiz (see quizzes/statistics.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: ``quizzes.statistics.CHOICE_TYPES``, as it was when this was written.
CHOICE_TYPES = ("multichoice", "truefalse")


def upgrade():
    op.create_table(
        "quizzes_item_stats",
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("question_version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fraction", sa.Double(), nullable=False),
        sa.Column("mark", sa.Double(), nullable=False),
        sa.Column("rest", sa.Double(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_version_id"],
            ["quizzes_question_version.id"],
            name=op.f("fk_quizzes_item_stats_question_version_id_quizzes_question_version"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes_quiz.id"],
            name=op.f("fk_quizzes_item_stats_quiz_id_quizzes_quiz"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "quiz_id",
            "question_version_id",
            "position",
            "fraction",
            "mark",
            "rest",
            "response",
            name=op.f("pk_quizzes_item_stats"),
        ),
    )
    op.create_table(
        "quizzes_total_stats",
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("max_score", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes_quiz.id"],
            name=op.f("fk_quizzes_total_stats_quiz_id_quizzes_quiz"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quiz_id", "score", "max_score", name=op.f("pk_quizzes_total_stats")),
    )
    _fill()


def _fill():
    """The counts of the attempts already graded (``quizzes.statistics`` keeps them after):
    each learner's first graded attempt per quiz, its counted answers grouped."""
    attempt = sa.table(
        "quizzes_attempt",
        sa.column("id", sa.Integer),
        sa.column("quiz_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("status", sa.String),
        sa.column("score", sa.Float),
        sa.column("max_score", sa.Float),
    )
    answer = sa.table(
        "quizzes_answer",
        sa.column("attempt_id", sa.Integer),
        sa.column("question_version_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("max_mark", sa.Float),
        sa.column("response", sa.JSON),
        sa.column("fraction", sa.Float),
        sa.column("mark", sa.Float),
    )
    version = sa.table(
        "quizzes_question_version",
        sa.column("id", sa.Integer),
        sa.column("question_id", sa.Integer),
        sa.column("qtype", sa.String),
    )
    ranked = (
        sa.select(
            attempt.c.id.label("attempt_id"),
            attempt.c.quiz_id.label("quiz_id"),
            attempt.c.score.label("score"),
            attempt.c.max_score.label("max_score"),
            sa.func.row_number()
            .over(partition_by=(attempt.c.quiz_id, attempt.c.user_id), order_by=attempt.c.number)
            .label("rank"),
        )
        .where(attempt.c.status == "graded")
        .subquery("ranked")
    )
    first = (
        sa.select(ranked.c.attempt_id, ranked.c.quiz_id, ranked.c.score, ranked.c.max_score)
        .where(ranked.c.rank == 1, ranked.c.score.is_not(None), ranked.c.max_score.is_not(None))
        .subquery("first")
    )
    is_choice = version.c.qtype.in_(CHOICE_TYPES)
    text = sa.case(
        (is_choice, sa.func.coalesce(sa.cast(answer.c.response, sa.Text), "")), else_=""
    )
    rest = first.c.score - answer.c.mark
    keys = (
        first.c.quiz_id,
        answer.c.question_version_id,
        answer.c.position,
        answer.c.fraction,
        answer.c.mark,
        rest,
        text,
        version.c.question_id,
        is_choice,
    )
    items = sa.table(
        "quizzes_item_stats",
        *(
            sa.column(name)
            for name in (
                "quiz_id", "question_version_id", "position", "fraction", "mark", "rest",
                "response", "question_id", "choice", "answers",
            )
        ),
    )
    op.execute(
        items.insert().from_select(
            [column.name for column in items.columns],
            sa.select(*keys, sa.func.count())
            .select_from(
                answer.join(first, first.c.attempt_id == answer.c.attempt_id).join(
                    version, version.c.id == answer.c.question_version_id
                )
            )
            .where(
                answer.c.fraction.is_not(None), answer.c.mark.is_not(None), answer.c.max_mark > 0
            )
            .group_by(*keys),
        )
    )
    totals = sa.table(
        "quizzes_total_stats", *(sa.column(n) for n in ("quiz_id", "score", "max_score", "attempts"))
    )
    op.execute(
        totals.insert().from_select(
            ["quiz_id", "score", "max_score", "attempts"],
            sa.select(first.c.quiz_id, first.c.score, first.c.max_score, sa.func.count()).group_by(
                first.c.quiz_id, first.c.score, first.c.max_score
            ),
        )
    )


def downgrade():
    op.drop_table("quizzes_total_stats")
    op.drop_table("quizzes_item_stats")
