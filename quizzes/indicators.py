"""The quizzes plugin's report indicator: knowledge gained from pre-test to post-test.

The figures follow ``quizzes.results.cohort_gains`` exactly (the cohort page shows the
same means): each cohort's latest published pre- and post-test, each learner's first
graded attempt at each, learners with both. Here it is one SQL statement for every cohort
at once: window functions pick the tests and the first attempts, and the sums per cohort
and sex are rolled up to manuals and sexes in Python (sums add up; means are taken last).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, select

from lms.accounts.models import User
from lms.accounts.roles import LEARNER_ROLES, SEXES
from lms.cohorts.models import Membership
from lms.extensions import db
from lms.reports.indicators import (
    SEX_KEYS,
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    Link,
    ReportFilters,
    Row,
    Table,
    sex_columns,
    sex_values,
)
from quizzes.models import GRADED, Attempt, Quiz

GAIN_ID = "quizzes.knowledge_gain"


def indicators() -> list[Indicator]:
    return [
        Indicator(
            GAIN_ID,
            _l("Knowledge gained (pre-test to post-test)"),
            _l(
                "For cohorts running in the period with a published pre-test and post-test"
                " (the latest of each): learners' first graded attempt at each, for learners"
                " who took both. Mean scores are in percent; the gain is the mean post-test"
                " score minus the mean pre-test score, in percentage points; the normalised"
                " gain ⟨g⟩ (Hake) is that gain divided by what was left to learn,"
                " (100 − mean pre-test score)."
            ),
            compute_gain,
            drill_gain,
            order=50,
        )
    ]


def _pairs(filters: ReportFilters) -> tuple[Any, Any, Any]:
    """Learners with both tests, as a query to give columns to (``with_only_columns``),
    with the cohorts subquery and the pairs subquery (``cohort_id``, ``user_id``, ``pre``,
    ``post``: the two first-attempt scores) it joins.

    The shape matters at scale: the chosen tests and first attempts come from window
    functions, which the planner cannot estimate (it guesses one row). Joined to each other
    twice, that guess made nested loops over millions of row pairs (3.6 s at scale 10).
    Here the attempts carry their test's cohort and kind from the start, and the pre- and
    post-test scores are put side by side by one GROUP BY, not by joins, so a wrong guess
    costs nothing (6 ms).
    """
    cohorts = filters.cohorts()
    ranked = select(
        Quiz.id,
        Quiz.cohort_id,
        Quiz.kind,
        func.row_number()
        .over(
            partition_by=(Quiz.cohort_id, Quiz.kind),
            order_by=(Quiz.created_at.desc(), Quiz.id.desc()),
        )
        .label("rank"),
    ).where(
        Quiz.published.is_(True),
        Quiz.kind.in_(("pre", "post")),
        Quiz.cohort_id.in_(select(cohorts.c.id)),
    )
    tests = ranked.subquery("ranked_tests")
    chosen = (
        select(tests.c.id, tests.c.cohort_id, tests.c.kind)
        .where(tests.c.rank == 1)
        .cte("gain_tests")
    )
    first = (
        select(
            chosen.c.cohort_id,
            chosen.c.kind,
            Attempt.user_id,
            Attempt.percent,
            func.row_number()
            .over(partition_by=(Attempt.quiz_id, Attempt.user_id), order_by=Attempt.number)
            .label("rank"),
        )
        .join(chosen, chosen.c.id == Attempt.quiz_id)
        .where(Attempt.status == GRADED, Attempt.percent.is_not(None))
        .cte("first_attempts")
    )
    pre_score = func.max(case((first.c.kind == "pre", first.c.percent)))
    post_score = func.max(case((first.c.kind == "post", first.c.percent)))
    pairs = (
        select(
            first.c.cohort_id,
            first.c.user_id,
            pre_score.label("pre"),
            post_score.label("post"),
        )
        .where(first.c.rank == 1)
        .group_by(first.c.cohort_id, first.c.user_id)
        .having(and_(pre_score.is_not(None), post_score.is_not(None)))
        .subquery("gain_pairs")
    )
    query = (
        select(literal(1))
        .select_from(Membership)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .join(User, User.id == Membership.user_id)
        .join(
            pairs,
            and_(pairs.c.cohort_id == Membership.cohort_id, pairs.c.user_id == Membership.user_id),
        )
        .where(Membership.role.in_(LEARNER_ROLES))
    )
    return query, cohorts, pairs


def compute_gain(filters: ReportFilters) -> Sequence[Table]:
    """Sums per cohort and sex in one statement; manuals, sexes and the total from those."""
    query, cohorts, pairs = _pairs(filters)
    statement = query.with_only_columns(
        cohorts.c.id,
        cohorts.c.name,
        cohorts.c.manual,
        User.sex,
        func.count(),
        func.sum(pairs.c.pre),
        func.sum(pairs.c.post),
    ).group_by(cohorts.c.id, cohorts.c.name, cohorts.c.manual, User.sex)
    sums: dict[tuple[str, str], list[float]] = {}
    by_sex_count: dict[tuple[str, str], dict[str, int]] = {}
    names: dict[str, str] = {}
    manuals: set[str] = set()
    for cid, name, manual, sex, pairs, pre_sum, post_sum in db.session.execute(statement):
        names[str(cid)] = name
        manuals.add(manual or "")
        for level in (("cohort", str(cid)), ("manual", manual or ""), ("sex", sex), ("total", "")):
            acc = sums.setdefault(level, [0.0, 0.0, 0.0])
            acc[0] += pairs
            acc[1] += float(pre_sum or 0)
            acc[2] += float(post_sum or 0)
            counts = by_sex_count.setdefault(level, {})
            counts[sex] = counts.get(sex, 0) + int(pairs)

    def row(label: str, level: tuple[str, str], key: dict[str, str]) -> Row:
        pairs, pre_sum, post_sum = sums.get(level, [0, 0, 0])
        values: dict[str, Any] = sex_values(by_sex_count.get(level, {}))
        values.update({"pre": None, "post": None, "gain": None, "hake": None})
        if pairs:
            # Means are rounded for showing only; ⟨g⟩ uses the exact ones, as the cohort
            # page does (``results.cohort_gains``).
            mean_pre, mean_post = pre_sum / pairs, post_sum / pairs
            values.update(
                pre=round(mean_pre, 2),
                post=round(mean_post, 2),
                gain=round(mean_post - mean_pre, 2),
                hake=round((mean_post - mean_pre) / (100 - mean_pre), 4)
                if mean_pre < 100
                else None,
            )
        return Row(label, values, key, total=level[0] == "total")

    columns = (
        *sex_columns(group=_l("Learners with both tests")),
        Column("pre", _l("Pre-test"), kind="percent", group=_l("Mean score")),
        Column("post", _l("Post-test"), kind="percent", group=_l("Mean score")),
        Column("gain", _l("Gain (points)"), kind="number"),
        Column("hake", _l("Normalised gain ⟨g⟩"), kind="number"),
    )
    total = row(str(_l("Total")), ("total", ""), {})
    by_cohort = [
        row(name, ("cohort", cid), {"cohort": cid})
        for cid, name in sorted(names.items(), key=lambda item: (item[1], int(item[0])))
    ]
    by_manual = [
        row(filters.labels.manual(slug), ("manual", slug), {"manual": slug or "-"})
        for slug in sorted(manuals, key=filters.labels.manual)
    ]
    by_sex = [
        row(str(SEXES[sex]), ("sex", sex), {"sex": sex}) for sex in SEX_KEYS if ("sex", sex) in sums
    ]
    return [
        Table(
            "by_manual",
            _l("By manual"),
            _l("Manual"),
            columns,
            (*by_manual, total),
            Chart(("pre", "post")),
        ),
        Table("by_cohort", _l("By cohort"), _l("Cohort"), columns, (*by_cohort, total)),
        Table("by_sex", _l("By sex"), _l("Sex"), columns, (*by_sex, total)),
    ]


def drill_gain(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The learners whose pair of scores a figure counts, with their scores."""
    request.only("cohort", "manual", "sex")
    query, cohorts, pairs = _pairs(filters)
    query = query.with_only_columns(
        User.name, User.sex, cohorts.c.id, cohorts.c.name, pairs.c.pre, pairs.c.post
    )
    cohort = request.get_int("cohort")
    if cohort is not None:
        query = query.where(cohorts.c.id == cohort)
    manual = request.get("manual")
    if manual is not None:
        query = query.where(cohorts.c.manual == ("" if manual == "-" else manual))
    if request.sex is not None:
        query = query.where(User.sex == request.sex)
    rows, total = request.fetch(query.order_by(cohorts.c.name, User.name, Membership.id))
    return DrillPage(
        (_l("Learner"), _l("Sex"), _l("Cohort"), _l("Pre-test"), _l("Post-test"), _l("Gain")),
        [
            (
                name,
                str(SEXES[sex]),
                Link(cname, url_for("cohorts.view", cohort_id=cid)),
                round(pre_score, 2),
                round(post_score, 2),
                round(post_score - pre_score, 2),
            )
            for name, sex, cid, cname, pre_score, post_score in rows
        ],
        total,
    )
