"""The knowledge-gain indicator matches the cohort page's gains and a count by hand."""

from __future__ import annotations

from datetime import date

import pytest

from lms.cohorts.models import CLASS
from lms.extensions import db
from quizzes import results
from quizzes.indicators import GAIN_ID
from tests import factories
from tests.curriculum import helpers
from tests.quizzes.test_attempts import bank, cohort_with, make_quiz, take, truefalse
from tests.reports import cells, drill, row, sexes, tables


def _answers(questions, right: int) -> dict:
    return {q: ("1" if i < right else "0") for i, q in enumerate(questions)}


@pytest.fixture
def world(app):
    """Five true/false questions, so scores are multiples of 20 %.

    ToT (Health Basics, Sept 2026)       pre  post     Class (Civic Education, 2025–26)  pre post
      A  female  (retakes pre: 100)       40   80        E  female (older pre-test: 0)   20   60
      B  male                             60   80        F  male                         40   40
      C  female                          100   80
      D  male                             20    —
    ToT pairs A B C: pre 66.67, post 80, gain 13.33, ⟨g⟩ 0.4; female A C: 70 → 80
    Class pairs E F: pre 30, post 50, gain 20, ⟨g⟩ 20/70 = 0.2857
    All five pairs: pre 52, post 68, gain 16, ⟨g⟩ 16/48 = 0.3333
    """
    for slug in ("health-basics", "civic-education"):
        helpers.manual(slug)
    qs = bank()
    questions = [truefalse(qs) for _ in range(5)]
    tot, _trainer, (a, b, c, d) = cohort_with(4)
    tot.name, tot.manual = "Health ToT", "health-basics"
    for person, name, sex in (
        (a, "Asel", "female"),
        (b, "Bakyt", "male"),
        (c, "Cholpon", "female"),
        (d, "Dastan", "male"),
    ):
        person.name, person.sex = name, sex
    pre = make_quiz(tot, questions, kind="pre", title="Pre", attempts_allowed=0)
    post = make_quiz(tot, questions, kind="post", title="Post")
    for person, before, after in ((a, 2, 4), (b, 3, 4), (c, 5, 4), (d, 1, None)):
        take(pre, person, _answers(questions, before))
        if after is not None:
            take(post, person, _answers(questions, after))
    take(pre, a, _answers(questions, 5))

    klass, _teacher, (e, f) = cohort_with(2, kind=CLASS)
    klass.name, klass.manual = "Civic class", "civic-education"
    klass.starts_on, klass.ends_on = date(2025, 9, 1), date(2026, 5, 31)
    e.sex, f.sex = "female", "male"
    older = make_quiz(klass, questions, kind="pre", title="Old pre")
    take(older, e, _answers(questions, 0))
    pre = make_quiz(klass, questions, kind="pre", title="Pre")
    post = make_quiz(klass, questions, kind="post", title="Post")
    for person, before, after in ((e, 1, 3), (f, 2, 2)):
        take(pre, person, _answers(questions, before))
        take(post, person, _answers(questions, after))
    admin = factories.user("admin")
    db.session.commit()
    return {"tot": tot, "klass": klass, "admin": admin}


def test_gains_counted_by_hand_and_as_the_cohort_page_shows_them(world):
    found = tables(GAIN_ID, world["admin"])
    for cohort in (world["tot"], world["klass"]):
        gains = results.cohort_gains(cohort.id)
        figures = row(found["by_cohort"], cohort.name)
        assert figures["total"] == gains.pairs
        assert figures["pre"] == pytest.approx(gains.mean_pre, abs=0.01)
        assert figures["post"] == pytest.approx(gains.mean_post, abs=0.01)
        assert figures["gain"] == pytest.approx(gains.mean_gain, abs=0.01)
        assert figures["hake"] == pytest.approx(gains.hake, abs=0.0001)
    tot = row(found["by_cohort"], "Health ToT")
    assert sexes(tot) == (2, 1, 3) and tot["hake"] == pytest.approx(0.4)
    civic = row(found["by_manual"], "Civic Education")
    assert (civic["pre"], civic["post"], civic["gain"]) == (30, 50, 20)
    assert civic["hake"] == pytest.approx(0.2857, abs=0.0001)
    total = row(found["by_manual"], "Total")
    assert sexes(total) == (3, 2, 5)
    assert (total["pre"], total["post"], total["gain"]) == (52, 68, 16)
    assert total["hake"] == pytest.approx(1 / 3, abs=0.0001)
    female = row(found["by_sex"], "Female")  # A, C and E: 40, 100, 20 → 80, 80, 60
    assert female["total"] == 3
    assert (female["pre"], female["post"]) == (pytest.approx(53.33), pytest.approx(73.33))


def test_the_period_and_manual_filters_choose_cohorts(world):
    in_2025 = tables(GAIN_ID, world["admin"], year=2025)
    assert [r.label for r in in_2025["by_cohort"].rows] == ["Civic class", "Total"]
    health = tables(GAIN_ID, world["admin"], manual="health-basics")
    assert row(health["by_cohort"], "Total")["total"] == 3


def test_drilling_into_a_figure_lists_the_learners_and_their_scores(world):
    page = drill(GAIN_ID, "by_cohort", f"cohort:{world['tot'].id},sex:female")
    assert page.total == 2
    assert cells(page, 0) == ["Asel", "Cholpon"]
    assert [line[3:] for line in page.rows] == [(40.0, 80.0, 40.0), (100.0, 80.0, -20.0)]
    assert set(cells(page, 2)) == {"Health ToT"}
