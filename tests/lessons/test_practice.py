"""Stage III practice lessons: scoring by the trainer and peers, the averages (worked out by
hand below), anonymity for the participant, rubric edits, the ledger, and who may do what."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from lessons import practice as practice_service
from lessons.models import PracticeLesson, PracticeScore
from lms.accounts.roles import PARTICIPANT
from lms.errors import Conflict, Invalid, NotAllowed
from lms.extensions import db
from lms.progress import api as progress
from tests import factories
from tests.lessons.test_tot import make_tot, published_edition

CONTENT = ("objectives", "accuracy", "faithful", "examples")
METHODOLOGY = ("interactive", "timing", "involves_all", "understanding")


def _scores(content: tuple[int, ...], methodology: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(CONTENT + METHODOLOGY, content + methodology, strict=True))


@pytest.fixture
def tot(app):
    """A ToT with its trainer, the participant who teaches, three peers and a practice lesson."""
    hygiene, nutrition, _water = published_edition()
    cohort, trainer = make_tot()
    teacher = factories.user(name="Aigul Teacher")
    peers = [factories.user(name=f"Peer Person {n}") for n in (1, 2, 3)]
    for person in (teacher, *peers):
        factories.member(cohort, person, PARTICIPANT)
    lesson = practice_service.add_practice(
        cohort,
        participant_id=teacher.id,
        module_version_id=hygiene.id,
        taught_on=date(2026, 10, 6),
        module_ids=[hygiene.id, nutrition.id],
        actor_id=trainer.id,
    )
    db.session.commit()
    return {
        "cohort": cohort,
        "trainer": trainer,
        "teacher": teacher,
        "peers": peers,
        "lesson": lesson,
        "modules": (hygiene, nutrition),
    }


def _client(app, person):
    db.session.commit()
    client = app.test_client()
    factories.login(client, person)
    return client


def _post_score(client, lesson, values: dict[str, int], comment: str = ""):
    data = {f"c_{key}": str(value) for key, value in values.items()}
    return client.post(f"/lessons/practice/{lesson.id}/score", data={**data, "comment": comment})


# The scores, and the averages worked out by hand:
#   trainer content 5 4 4 5 = 18/4 = 4.5          methodology 3 4 5 4 = 16/4 = 4.0
#   peer 1  content 4 4 3 5 = 16                   methodology 4 4 4 4 = 16
#   peer 2  content 3 3 4 4 = 14                   methodology 5 5 4 4 = 18
#   peer 3  content 5 5 5 5 = 20                   methodology 2 3 3 4 = 12
#   peers   content 50/12 = 4.1667                 methodology 46/12 = 3.8333
#   all     content 68/16 = 4.25                   methodology 62/16 = 3.875
#   overall 130/32 = 4.0625; "objectives": trainer 5, peers (4 + 3 + 5) / 3 = 4.0
TRAINER_SCORES = _scores((5, 4, 4, 5), (3, 4, 5, 4))
PEER_SCORES = [
    _scores((4, 4, 3, 5), (4, 4, 4, 4)),
    _scores((3, 3, 4, 4), (5, 5, 4, 4)),
    _scores((5, 5, 5, 5), (2, 3, 3, 4)),
]


def _score_everyone(app, tot) -> None:
    lesson = tot["lesson"]
    response = _post_score(_client(app, tot["trainer"]), lesson, TRAINER_SCORES, "Good pace.")
    assert response.status_code == 302
    for n, (peer, values) in enumerate(zip(tot["peers"], PEER_SCORES, strict=True), start=1):
        response = _post_score(_client(app, peer), lesson, values, f"Comment of peer {n}.")
        assert response.status_code == 302, response.get_data(as_text=True)


def test_a_trainer_and_three_peers_score_and_the_averages_are_right(app, tot):
    _score_everyone(app, tot)
    lesson = db.session.get(PracticeLesson, tot["lesson"].id)
    db.session.refresh(lesson)
    roles = sorted(s.role for s in lesson.scores)
    assert roles == ["peer", "peer", "peer", "trainer"]

    summary = practice_service.summarise(
        practice_service.get_rubric(tot["cohort"].id), lesson.scores
    )
    content, method = summary.dimension("content"), summary.dimension("methodology")
    assert (content.trainer, method.trainer) == (4.5, 4.0)
    assert content.peers == pytest.approx(50 / 12, abs=0.005)
    assert method.peers == pytest.approx(46 / 12, abs=0.005)
    assert content.all == 4.25
    assert method.all == pytest.approx(62 / 16, abs=0.005)
    assert summary.overall == pytest.approx(130 / 32, abs=0.005)
    by_id = {criterion.id: averages for criterion, averages in summary.criteria}
    assert (by_id["objectives"].trainer, by_id["objectives"].peers) == (5.0, 4.0)
    assert (summary.trainer_count, summary.peer_count) == (1, 3)

    latest = progress.latest_for_cohort(tot["cohort"].id)
    record = latest[(tot["teacher"].id, "lessons.practice", str(lesson.id))]
    assert record.outcome == "scored"
    assert record.score == pytest.approx(130 / 32, abs=0.005)
    assert record.details["content"] == 4.25

    listing = _client(app, tot["trainer"]).get(f"/lessons/cohorts/{tot['cohort'].id}/practice")
    text = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Aigul Teacher" in text and "Hand hygiene" in text
    assert "4.25" in text and "3.88" in text  # content and methodology of everyone


def test_the_participant_sees_the_averages_with_peers_unnamed(app, tot):
    _score_everyone(app, tot)
    url = f"/lessons/practice/{tot['lesson'].id}"
    own = _client(app, tot["teacher"]).get(url)
    assert own.status_code == 200
    text = own.get_data(as_text=True)
    assert text.count("a peer") == 3
    assert "Peer Person" not in text
    assert "Comment of peer 2." in text and "Good pace." in text
    assert tot["trainer"].name in text
    assert "4.17" in text and "3.83" in text  # the peers' content and methodology averages

    as_trainer = _client(app, tot["trainer"]).get(url).get_data(as_text=True)
    assert "Peer Person 1" in as_trainer and "a peer" not in as_trainer
    assert _client(app, tot["peers"][0]).get(url).status_code == 403


def test_the_participant_cannot_score_themselves(app, tot):
    teacher, lesson = tot["teacher"], tot["lesson"]
    client = _client(app, teacher)
    assert client.get(f"/lessons/practice/{lesson.id}/score").status_code == 403
    assert _post_score(client, lesson, TRAINER_SCORES).status_code == 403
    with pytest.raises(NotAllowed):
        practice_service.submit_score(lesson, teacher, TRAINER_SCORES)
    assert db.session.scalar(select(func.count(PracticeScore.id))) == 0
    listing = client.get(f"/lessons/cohorts/{tot['cohort'].id}/practice").get_data(as_text=True)
    assert f"/lessons/practice/{lesson.id}/score" not in listing
    assert f'href="/lessons/practice/{lesson.id}"' in listing


def test_outsiders_may_not_score_or_see(app, tot):
    lesson = tot["lesson"]
    other = factories.cohort()
    outsider = factories.user()
    factories.member(other, outsider, PARTICIPANT)
    client = _client(app, outsider)
    assert client.get(f"/lessons/practice/{lesson.id}/score").status_code == 403
    assert _post_score(client, lesson, TRAINER_SCORES).status_code == 403
    assert client.get(f"/lessons/practice/{lesson.id}").status_code == 403
    assert client.get(f"/lessons/cohorts/{tot['cohort'].id}/practice").status_code == 403
    assert db.session.scalar(select(func.count(PracticeScore.id))) == 0


def test_scoring_again_replaces_the_scorers_scores(app, tot):
    peer, lesson = tot["peers"][0], tot["lesson"]
    client = _client(app, peer)
    assert _post_score(client, lesson, PEER_SCORES[0], "First.").status_code == 302
    form = client.get(f"/lessons/practice/{lesson.id}/score").get_data(as_text=True)
    assert "replaces your scores" in form and "First." in form
    assert _post_score(client, lesson, PEER_SCORES[2], "Second.").status_code == 302
    db.session.expire_all()
    (score,) = db.session.scalars(select(PracticeScore))
    assert (score.scores, score.comment, score.role) == (PEER_SCORES[2], "Second.", "peer")
    records = progress.records_for_learner(tot["teacher"].id, tot["cohort"].id)
    assert [r.score for r in records if r.item_type == "lessons.practice"] == [4.0, 4.0]


def test_every_criterion_needs_a_score_on_the_scale(app, tot):
    client = _client(app, tot["trainer"])
    missing = {k: v for k, v in TRAINER_SCORES.items() if k != "timing"}
    response = _post_score(client, tot["lesson"], missing)
    assert response.status_code == 400
    assert 'id="c_timing-errors"' in response.get_data(as_text=True)
    assert _post_score(client, tot["lesson"], {**TRAINER_SCORES, "timing": 9}).status_code == 400
    assert db.session.scalar(select(func.count(PracticeScore.id))) == 0


def test_the_scoring_page_has_a_fieldset_of_radio_buttons_per_criterion(app, tot):
    page = _client(app, tot["peers"][1]).get(f"/lessons/practice/{tot['lesson'].id}/score")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('<fieldset class="criterion') == 8
    assert text.count('type="radio"') == 8 * 5
    assert 'name="comment"' in text and "The objectives are clear" in text


# --- the rubric ---------------------------------------------------------------------------


def _rubric_form(rows: list[tuple[str, str, str, bool]], low: int = 1, high: int = 5) -> dict:
    data: dict[str, str] = {"scale_min": str(low), "scale_max": str(high)}
    for n, (key, text, dimension, remove) in enumerate(rows):
        data[f"criteria-{n}-key"] = key
        data[f"criteria-{n}-text"] = text
        data[f"criteria-{n}-dimension"] = dimension
        if remove:
            data[f"criteria-{n}-remove"] = "y"
    return data


def test_rubric_edits_apply_to_new_scores(app, tot):
    cohort, lesson = tot["cohort"], tot["lesson"]
    trainer_client = _client(app, tot["trainer"])
    assert _post_score(trainer_client, lesson, TRAINER_SCORES).status_code == 302

    page = trainer_client.get(f"/lessons/cohorts/{cohort.id}/rubric")
    assert page.status_code == 200 and "Checks understanding" in page.get_data(as_text=True)
    rows = [
        ("objectives", "The objectives are clear", "content", False),
        ("accuracy", "The content is accurate and complete", "content", False),
        ("faithful", "Faithful to the manual", "content", False),
        ("examples", "The examples fit the audience", "content", False),
        ("interactive", "Uses interactive methods", "methodology", False),
        ("timing", "Manages the time well", "methodology", True),  # removed
        ("involves_all", "Involves every participant", "methodology", False),  # relabelled
        ("understanding", "Checks understanding", "methodology", False),
        ("", "Uses the manual's activities", "methodology", False),  # added
        ("", "", "content", False),  # an empty line
    ]
    saved = trainer_client.post(f"/lessons/cohorts/{cohort.id}/rubric", data=_rubric_form(rows))
    assert saved.status_code == 302

    rubric = practice_service.get_rubric(cohort.id)
    active = {c.id: (str(c.label), c.dimension) for c in rubric.active}
    assert "timing" not in active and active["c1"] == (
        "Uses the manual's activities",
        "methodology",
    )
    assert active["involves_all"][0] == "Involves every participant"
    assert [c.id for c in rubric.criteria if c.retired] == ["timing"]  # scored on: kept

    peer = tot["peers"][0]
    form = _client(app, peer).get(f"/lessons/practice/{lesson.id}/score").get_data(as_text=True)
    assert "Uses the manual&#39;s activities" in form and "Manages the time well" not in form
    new_scores = {**{k: 4 for k in CONTENT}, "interactive": 4, "involves_all": 4}
    new_scores |= {"understanding": 4, "c1": 2}
    assert _post_score(_client(app, peer), lesson, new_scores).status_code == 302
    with pytest.raises(Invalid):  # the old rubric's scores miss the new criterion
        practice_service.submit_score(lesson, tot["peers"][1], PEER_SCORES[1])

    db.session.expire_all()
    lesson = db.session.get(PracticeLesson, lesson.id)
    trainer_score, peer_score = sorted(lesson.scores, key=lambda s: s.role, reverse=True)
    assert "timing" in trainer_score.scores and "c1" not in trainer_score.scores
    assert peer_score.scores == new_scores
    summary = practice_service.summarise(practice_service.get_rubric(cohort.id), lesson.scores)
    by_id = {c.id: a for c, a in summary.criteria}
    assert by_id["timing"].trainer == 4.0 and by_id["timing"].peers is None
    assert by_id["c1"].peers == 2.0
    # methodology, peers: 4 + 4 + 4 + 2 = 14 / 4 = 3.5
    assert summary.dimension("methodology").peers == 3.5
    results = trainer_client.get(f"/lessons/practice/{lesson.id}").get_data(as_text=True)
    assert "no longer in the rubric" in results


def test_the_scale_is_fixed_once_scored(app, tot):
    cohort = tot["cohort"]
    rows = [
        (c.id, str(c.label), c.dimension, False) for c in practice_service.DEFAULT_RUBRIC.active
    ]
    client = _client(app, tot["trainer"])
    url = f"/lessons/cohorts/{cohort.id}/rubric"
    assert client.post(url, data=_rubric_form(rows, 1, 4)).status_code == 302
    assert practice_service.get_rubric(cohort.id).scale == [1, 2, 3, 4]
    assert _post_score(client, tot["lesson"], {k: 4 for k in TRAINER_SCORES}).status_code == 302
    refused = client.post(url, data=_rubric_form(rows, 1, 5))
    assert refused.status_code == 400
    assert "cannot change once" in refused.get_data(as_text=True)
    assert practice_service.get_rubric(cohort.id).scale_max == 4


def test_a_rubric_keeps_at_least_one_criterion_with_a_label(app, tot):
    cohort = tot["cohort"]
    with pytest.raises(Invalid) as raised:
        practice_service.save_rubric(
            cohort,
            [practice_service.CriterionInput(c.id, "", c.dimension, remove=True)
             for c in practice_service.DEFAULT_RUBRIC.active],
            scale_min=1,
            scale_max=5,
            actor_id=None,
        )  # fmt: skip
    assert "criteria" in raised.value.field_errors
    with pytest.raises(Invalid):
        practice_service.save_rubric(
            cohort,
            [practice_service.CriterionInput("objectives", "   ", "content")],
            scale_min=1,
            scale_max=5,
            actor_id=None,
        )
    with pytest.raises(Invalid):
        practice_service.save_rubric(
            cohort,
            [practice_service.CriterionInput("", "New", "politics")],
            scale_min=1,
            scale_max=5,
            actor_id=None,
        )


def test_unchanged_default_labels_stay_translated(app, tot):
    cohort = tot["cohort"]
    rows = [
        practice_service.CriterionInput(c.id, str(c.label), c.dimension)
        for c in practice_service.DEFAULT_RUBRIC.active
    ]
    practice_service.save_rubric(cohort, rows, scale_min=1, scale_max=5, actor_id=None)
    stored = db.session.get(practice_service.PracticeRubric, cohort.id)
    assert all(c["label"] == "" for c in stored.criteria)


# --- practice lessons and permissions -----------------------------------------------------


def test_leaders_add_practice_lessons_and_others_may_not(app, tot):
    cohort, (hygiene, nutrition) = tot["cohort"], tot["modules"]
    url = f"/lessons/cohorts/{cohort.id}/practice"
    peer = tot["peers"][0]
    data = {
        "participant_id": str(peer.id),
        "module_version_id": str(nutrition.id),
        "taught_on": "2026-10-07",
    }
    peer_client = _client(app, peer)
    page = peer_client.get(url)
    assert page.status_code == 200 and 'name="participant_id"' not in page.get_data(as_text=True)
    assert peer_client.post(url, data=data).status_code == 403
    assert peer_client.get(f"/lessons/cohorts/{cohort.id}/rubric").status_code == 403

    trainer_client = _client(app, tot["trainer"])
    assert trainer_client.post(url, data=data).status_code == 302
    assert trainer_client.post(url, data=data).status_code == 409  # the same module twice
    bad = {**data, "participant_id": str(tot["trainer"].id), "module_version_id": "999999"}
    response = trainer_client.post(url, data=bad)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(PracticeLesson.id))) == 2
    with pytest.raises(Conflict):
        practice_service.add_practice(
            cohort,
            participant_id=peer.id,
            module_version_id=nutrition.id,
            taught_on=date(2026, 10, 7),
            module_ids=[hygiene.id, nutrition.id],
            actor_id=None,
        )


def test_anonymous_visitors_are_sent_to_log_in(app, tot):
    client = app.test_client()
    for url in (
        f"/lessons/practice/{tot['lesson'].id}/score",
        f"/lessons/practice/{tot['lesson'].id}",
        f"/lessons/cohorts/{tot['cohort'].id}/rubric",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_tot_rule_needs_attendance_and_a_good_practice_lesson(app):
    """Practice averages feed completion: rule lessons.tot with min_practice 3."""
    from lessons.rules import tot
    from lms.plugins import CompletionContext
    from lms.progress.models import ProgressRecord

    class _Cohort:
        id = 1

    def record(score):
        return ProgressRecord(
            user_id=1,
            item_type="lessons.practice",
            item_id="9",
            outcome="scored",
            score=score,
            source="t",
        )

    from lms.plugins import ProgressItem

    held = ProgressItem("lessons.session", "5", "Day 1")
    attended = ProgressRecord(
        user_id=1, item_type="lessons.session", item_id="5", outcome="attended", source="t"
    )
    for score, expected in ((4.2, True), (2.5, False), (None, False)):
        latest = {(1, "lessons.session", "5"): attended}
        if score is not None:
            latest[(1, "lessons.practice", "9")] = record(score)
        ctx = CompletionContext(
            cohort=_Cohort(),
            items=[held],
            learner_ids=[1],
            latest=latest,
            params={"min_practice": 3},
        )
        assert tot(ctx)[1].completed is expected, score
