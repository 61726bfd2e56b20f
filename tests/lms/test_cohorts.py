"""Cohorts: lists, creating ToT cohorts and classes, members, completion marks, access."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select

from lms import hookimpl
from lms.accounts.roles import PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.audit.models import AuditEntry
from lms.cohorts import services
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.errors import NotAllowed
from lms.extensions import db
from lms.plugins import ProgressItem
from lms.progress.api import evaluate_completion
from lms.progress.api import record as progress_record
from tests import factories


def _text(response) -> str:
    return response.get_data(as_text=True)


def _fresh() -> None:
    """Forget what the test's session holds: each request ran in its own session."""
    db.session.expire_all()


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _tot_form(**overrides) -> dict[str, object]:
    from curriculum.services import create_manual, get_manual

    if get_manual("civic-education") is None:
        create_manual(slug="civic-education", title_en="Civic Education", actor_id=None)
        db.session.commit()
    data: dict[str, object] = {
        "name": "ToT Osh autumn",
        "region_id": factories.region("osh-region").id,
        "venue": "Hotel Osh",
        "starts_on": "2026-10-01",
        "ends_on": "2026-10-05",
        "manual": "civic-education",
        "completion_rule": "all-required-items",
    }
    data.update(overrides)
    return data


# --- lists ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/cohorts/", "/cohorts/new?kind=tot", "/cohorts/1", "/cohorts/1/members"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


def test_list_filters_by_kind_region_and_archived(app, client):
    officer = factories.user("monitor")
    factories.cohort(TOT, name="ToT Osh")
    factories.cohort(TOT, name="ToT Chuy", region=factories.region("chuy"))
    factories.cohort(CLASS, name="Class Chuy", place=factories.madrasa(region_code="chuy"))
    factories.cohort(TOT, name="Old ToT", archived=True)
    db.session.commit()
    factories.login(client, officer)
    chuy = factories.region("chuy").id

    def names(query: str) -> set[str]:
        page = _text(client.get(f"/cohorts/{query}"))
        return {n for n in ("ToT Osh", "ToT Chuy", "Class Chuy", "Old ToT") if f">{n}<" in page}

    assert names("") == {"ToT Osh", "ToT Chuy", "Class Chuy"}
    assert names("?kind=tot") == {"ToT Osh", "ToT Chuy"}
    assert names("?kind=class") == {"Class Chuy"}
    assert names(f"?region={chuy}") == {"ToT Chuy", "Class Chuy"}
    assert names("?status=archived") == {"Old ToT"}
    assert names("?status=all&kind=tot") == {"ToT Osh", "ToT Chuy", "Old ToT"}


def test_list_shows_place_dates_and_number_of_learners(app, client):
    admin = factories.user("admin")
    group = factories.cohort(CLASS, name="Grade 7", place=factories.madrasa("Madrasa Nur"))
    for _ in range(3):
        factories.member(group, factories.user(), STUDENT)
    factories.member(group, factories.user(), TEACHER)
    db.session.commit()
    factories.login(client, admin)
    page = _text(client.get("/cohorts/"))
    assert "Madrasa Nur" in page
    assert "Sep 1, 2026" in page
    assert "<td>3</td>" in page


def test_scoped_users_list_only_their_cohorts(app, client):
    mine = factories.cohort(TOT, name="Trainer Cohort")
    factories.cohort(TOT, name="Someone Else Cohort")
    trainer = factories.user()
    factories.member(mine, trainer, TRAINER)
    madrasa = factories.madrasa()
    own_class = factories.cohort(CLASS, name="Own Class", place=madrasa)
    factories.cohort(CLASS, name="Foreign Class")
    teacher = factories.user(TEACHER, scope=madrasa)
    db.session.commit()

    factories.login(client, trainer)
    page = _text(client.get("/cohorts/"))
    assert "Trainer Cohort" in page and "Someone Else Cohort" not in page
    client.post("/account/logout")

    factories.login(client, teacher)
    page = _text(client.get("/cohorts/"))
    assert own_class.name in page and "Foreign Class" not in page
    assert "Trainer Cohort" not in page


# --- creating ------------------------------------------------------------------------------


def test_trainer_creates_a_tot_cohort_and_becomes_its_trainer(app, client):
    trainer = factories.user(TRAINER)
    db.session.commit()
    factories.login(client, trainer)

    assert client.get("/cohorts/new").status_code == 200
    form = client.get("/cohorts/new?kind=tot")
    assert form.status_code == 200 and "Osh Region" in _text(form)

    response = client.post("/cohorts/new?kind=tot", data=_tot_form())
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "ToT Osh autumn"))
    assert cohort is not None
    assert (cohort.kind, cohort.venue, cohort.manual) == (TOT, "Hotel Osh", "civic-education")
    assert (cohort.starts_on, cohort.ends_on) == (date(2026, 10, 1), date(2026, 10, 5))
    assert [(m.user_id, m.role) for m in cohort.memberships] == [(trainer.id, TRAINER)]
    assert _audit("cohort.create") and _audit("membership.add")

    page = _text(client.get(response.headers["Location"]))
    assert "ToT Osh autumn" in page and "Hotel Osh" in page


def test_admin_creator_does_not_become_a_member(app, client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    assert client.post("/cohorts/new?kind=tot", data=_tot_form()).status_code == 302
    assert db.session.scalar(select(func.count(Membership.id))) == 0


def test_all_field_errors_are_shown_at_once(app, client):
    trainer = factories.user(TRAINER)
    db.session.commit()
    factories.login(client, trainer)
    response = client.post(
        "/cohorts/new?kind=tot", data=_tot_form(name="", ends_on="2026-01-01", region_id="")
    )
    page = _text(response)
    assert page.count('aria-invalid="true"') == 3
    assert "The end date cannot be before the start date." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_on": "2026-09-30"}, "The end date cannot be before the start date."),
        ({"region_id": ""}, "This field is required."),
        ({"starts_on": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_tot_validation_errors_are_shown_next_to_the_field(app, client, overrides, message):
    trainer = factories.user(TRAINER)
    db.session.commit()
    factories.login(client, trainer)
    response = client.post("/cohorts/new?kind=tot", data=_tot_form(**overrides))
    assert response.status_code == 200
    assert message in _text(response)
    assert 'aria-invalid="true"' in _text(response)
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_teacher_creates_a_class_only_in_their_madrasa(app, client):
    mine = factories.madrasa("Madrasa A")
    other = factories.madrasa("Madrasa B")
    teacher = factories.user(TEACHER, scope=mine)
    db.session.commit()
    factories.login(client, teacher)
    data = {
        "name": "Grade 5",
        "madrasa_id": mine.id,
        "starts_on": "2026-09-01",
        "completion_rule": "marked-complete",
    }

    form = _text(client.get("/cohorts/new?kind=class"))
    assert "Madrasa A" in form and "Madrasa B" not in form
    assert client.get("/cohorts/new?kind=tot").status_code == 403  # ToT needs a region
    assert "New ToT cohort" not in _text(client.get("/cohorts/"))

    refused = client.post("/cohorts/new?kind=class", data={**data, "madrasa_id": other.id})
    assert refused.status_code in (200, 403)
    assert 'aria-invalid="true"' in _text(refused)
    assert db.session.scalar(select(func.count(Cohort.id))) == 0

    created = client.post("/cohorts/new?kind=class", data=data)
    assert created.status_code == 302
    cohort = db.session.scalar(select(Cohort))
    assert (cohort.madrasa_id, cohort.ends_on, cohort.completion_rule) == (
        mine.id,
        None,
        "marked-complete",
    )
    assert [(m.user_id, m.role) for m in cohort.memberships] == [(teacher.id, TEACHER)]


def test_the_service_refuses_a_place_outside_the_creators_scope(app):
    teacher = factories.user(TEACHER, scope=factories.madrasa())
    other = factories.madrasa()
    fields = services.CohortFields(name="X", starts_on=date(2026, 9, 1), madrasa_id=other.id)
    with pytest.raises(NotAllowed) as caught:
        services.create_cohort(teacher, CLASS, fields)
    assert "madrasa_id" in caught.value.field_errors


def test_students_cannot_create_cohorts(app, client):
    student = factories.user(STUDENT)
    db.session.commit()
    factories.login(client, student)
    assert client.get("/cohorts/new?kind=class").status_code == 403


# --- the cohort page and access ------------------------------------------------------------


def test_cohort_page_groups_members_with_counts_by_sex(app, client):
    cohort = factories.cohort(TOT, name="ToT Naryn")
    trainer = factories.user(name="Bakyt Trainer", sex="male")
    factories.member(cohort, trainer, TRAINER)
    for name, sex in [("Aida", "female"), ("Bermet", "female"), ("Chyngyz", "male")]:
        factories.member(cohort, factories.user(name=name, sex=sex), PARTICIPANT)
    db.session.commit()
    factories.login(client, trainer)

    page = _text(client.get(f"/cohorts/{cohort.id}"))
    assert "Bakyt Trainer" in page and "Aida" in page and "Chyngyz" in page
    assert "Female: 2, male: 1" in page
    assert "Female: 0, male: 1" in page
    assert "not completed" in page  # every learner's status is shown to the trainer
    assert "Add a member" in page


def test_learner_sees_own_cohort_but_no_management(app, client):
    cohort = factories.cohort(CLASS, completion_rule="marked-complete")
    other = factories.cohort(CLASS)
    student = factories.user()
    membership = factories.member(cohort, student, STUDENT)
    db.session.commit()
    factories.login(client, student)

    page = client.get(f"/cohorts/{cohort.id}")
    assert page.status_code == 200
    assert "Add a member" not in _text(page)
    assert "Mark completed" not in _text(page)
    assert "Your status:" in _text(page)
    assert client.get(f"/cohorts/{other.id}").status_code == 403
    base = f"/cohorts/{cohort.id}"
    assert client.get(f"{base}/edit").status_code == 403
    assert client.get(f"{base}/members").status_code == 403
    assert (
        client.post(f"{base}/members", data={"username": "x", "role": STUDENT}).status_code == 403
    )
    assert client.post(f"{base}/members/{membership.id}/remove").status_code == 403
    assert client.post(f"{base}/archive").status_code == 403
    marked = client.post(f"{base}/completion/{student.id}", data={"outcome": "completed"})
    assert marked.status_code == 403
    assert evaluate_completion(cohort)[student.id].completed is False


def test_trainer_of_one_cohort_cannot_touch_another(app, client):
    mine = factories.cohort(TOT)
    theirs = factories.cohort(TOT)
    trainer = factories.user()
    factories.member(mine, trainer, TRAINER)
    db.session.commit()
    factories.login(client, trainer)

    assert client.get(f"/cohorts/{mine.id}").status_code == 200
    assert client.get(f"/cohorts/{mine.id}/edit").status_code == 200
    assert client.get(f"/cohorts/{theirs.id}").status_code == 403
    assert client.get(f"/cohorts/{theirs.id}/edit").status_code == 403
    assert client.post(f"/cohorts/{theirs.id}/archive").status_code == 403
    assert client.get("/cohorts/999999").status_code == 404


class _Lessons:
    """A fake plugin declaring two required items in every cohort."""

    PLUGIN_NAME = "fake_lessons"

    @staticmethod
    @hookimpl
    def register_progress_items(cohort):
        return [
            ProgressItem("fake.session", "1", "Session one"),
            ProgressItem("fake.session", "2", "Session two"),
        ]


def test_cohort_page_says_what_a_learner_still_misses(make_app):
    app = make_app(plugins=(_Lessons,))
    client = app.test_client()
    with app.app_context():
        cohort = factories.cohort(TOT)
        trainer = factories.user()
        factories.member(cohort, trainer, TRAINER)
        done, halfway = factories.user(name="Done Person"), factories.user(name="Halfway")
        for person in (done, halfway):
            factories.member(cohort, person, PARTICIPANT)
        for person, session in [(done, "1"), (done, "2"), (halfway, "1")]:
            progress_record(
                user_id=person.id,
                cohort_id=cohort.id,
                item_type="fake.session",
                item_id=session,
                outcome="attended",
                source="test",
            )
        db.session.commit()
        factories.login(client, trainer)
        page = _text(client.get(f"/cohorts/{cohort.id}"))
    assert page.count('class="badge ok"') == 1
    assert "Missing: Session two" in page


# --- members -------------------------------------------------------------------------------


def test_adding_members_by_user_name(app, client):
    cohort = factories.cohort(TOT)
    trainer = factories.user()
    factories.member(cohort, trainer, TRAINER)
    newcomer = factories.user(username="jyldyz", name="Jyldyz Participant")
    db.session.commit()
    factories.login(client, trainer)
    url = f"/cohorts/{cohort.id}/members"

    page = client.get(url)
    assert page.status_code == 200
    # The learner's role is the one offered: most people added are learners.
    assert f'<option selected value="{PARTICIPANT}">' in _text(page)
    added = client.post(url, data={"username": " Jyldyz ", "role": PARTICIPANT})
    assert added.status_code == 302
    roles = db.session.scalars(
        select(Membership.role).where(
            Membership.cohort_id == cohort.id, Membership.user_id == newcomer.id
        )
    ).all()
    assert roles == [PARTICIPANT]
    entry = _audit("membership.add")[-1]
    assert entry.details["user_id"] == newcomer.id and entry.actor_id == trainer.id

    unknown = client.post(url, data={"username": "nobody-here", "role": PARTICIPANT})
    assert unknown.status_code == 200
    assert "There is no user with the user name nobody-here." in _text(unknown)

    duplicate = client.post(url, data={"username": "jyldyz", "role": TRAINER})
    assert duplicate.status_code == 200
    assert "already in this cohort" in _text(duplicate)

    wrong_role = client.post(url, data={"username": "jyldyz", "role": STUDENT})
    assert wrong_role.status_code == 200
    assert 'aria-invalid="true"' in _text(wrong_role)
    count = select(func.count(Membership.id)).where(Membership.cohort_id == cohort.id)
    assert db.session.scalar(count) == 2


def test_removing_a_member_asks_first(app, client):
    cohort = factories.cohort(CLASS)
    teacher = factories.user()
    factories.member(cohort, teacher, TEACHER)
    student = factories.user(name="Leaving Student")
    membership = factories.member(cohort, student, STUDENT)
    db.session.commit()
    factories.login(client, teacher)
    url = f"/cohorts/{cohort.id}/members/{membership.id}/remove"

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Leaving Student" in _text(confirm)
    assert db.session.get(Membership, membership.id) is not None

    assert client.post(url).status_code == 302
    _fresh()
    assert db.session.scalar(select(Membership).where(Membership.user_id == student.id)) is None
    assert _audit("membership.remove")[-1].details["user_id"] == student.id
    assert client.post(url).status_code == 404


# --- completion and archiving --------------------------------------------------------------


def test_marking_completion_feeds_evaluate_completion_and_the_audit_log(app, client):
    cohort = factories.cohort(CLASS, completion_rule="marked-complete")
    teacher = factories.user()
    factories.member(cohort, teacher, TEACHER)
    student = factories.user()
    factories.member(cohort, student, STUDENT)
    db.session.commit()
    factories.login(client, teacher)
    url = f"/cohorts/{cohort.id}/completion/{student.id}"

    assert "Mark completed" in _text(client.get(f"/cohorts/{cohort.id}"))
    assert client.post(url, data={"outcome": "completed"}).status_code == 302
    assert evaluate_completion(cohort)[student.id].completed is True
    entry = _audit("cohort.mark_completion")[-1]
    assert entry.details == {"user_id": student.id, "outcome": "completed"}
    assert entry.actor_id == teacher.id
    assert "badge ok" in _text(client.get(f"/cohorts/{cohort.id}"))

    assert client.post(url, data={"outcome": "not_completed"}).status_code == 302
    assert evaluate_completion(cohort)[student.id].completed is False
    assert len(_audit("cohort.mark_completion")) == 2

    # A leader is not a learner, and other rules are not marked by hand.
    assert (
        client.post(
            f"/cohorts/{cohort.id}/completion/{teacher.id}", data={"outcome": "completed"}
        ).status_code
        == 404
    )
    _fresh()
    cohort.completion_rule = "all-required-items"
    db.session.commit()
    assert client.post(url, data={"outcome": "completed"}).status_code == 400


def test_archiving_hides_a_cohort_from_the_current_list(app, client):
    cohort = factories.cohort(TOT, name="Finished ToT")
    trainer = factories.user()
    factories.member(cohort, trainer, TRAINER)
    db.session.commit()
    factories.login(client, trainer)

    assert client.post(f"/cohorts/{cohort.id}/archive").status_code == 302
    _fresh()
    assert db.session.get(Cohort, cohort.id).archived is True
    assert ">Finished ToT<" not in _text(client.get("/cohorts/"))
    assert ">Finished ToT<" in _text(client.get("/cohorts/?status=archived"))
    assert client.post(f"/cohorts/{cohort.id}/unarchive").status_code == 302
    _fresh()
    assert db.session.get(Cohort, cohort.id).archived is False
    assert [e.action for e in _audit("cohort.archive") + _audit("cohort.unarchive")] == [
        "cohort.archive",
        "cohort.unarchive",
    ]


def test_editing_a_cohort(app, client):
    cohort = factories.cohort(TOT, name="Draft name")
    trainer = factories.user()
    factories.member(cohort, trainer, TRAINER)
    db.session.commit()
    factories.login(client, trainer)
    url = f"/cohorts/{cohort.id}/edit"
    data = _tot_form(name="Final name", region_id=cohort.region_id)

    bad = client.post(url, data={**data, "ends_on": "2026-01-01"})
    assert bad.status_code == 200
    assert "The end date cannot be before the start date." in _text(bad)

    moved = client.post(url, data={**data, "region_id": factories.region("talas").id})
    assert moved.status_code in (200, 403)
    _fresh()
    assert db.session.get(Cohort, cohort.id).region_id == factories.region("osh-region").id

    assert client.post(url, data=data).status_code == 302
    _fresh()
    saved = db.session.get(Cohort, cohort.id)
    assert (saved.name, saved.venue) == ("Final name", "Hotel Osh")
    assert _audit("cohort.update")[-1].details["name"] == ["Draft name", "Final name"]


# --- bounded SQL ---------------------------------------------------------------------------


def _statements_for_page(client, cohort_id: int) -> int:
    """Statements one cohort page issues (each request has its own session and ``g``)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(f"/cohorts/{cohort_id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_cohort_page_issues_a_bounded_number_of_statements(app, client):
    trainer = factories.user(TRAINER)
    ids = []
    for size in (5, 30):
        cohort = factories.cohort(CLASS, completion_rule="marked-complete")
        factories.member(cohort, factories.user(), TEACHER)
        for n in range(size):
            learner = factories.user(sex="male" if n % 2 else "female")
            factories.member(cohort, learner, STUDENT)
            if n % 3 == 0:
                progress_record(
                    user_id=learner.id,
                    cohort_id=cohort.id,
                    item_type="lms.cohort",
                    item_id=str(cohort.id),
                    outcome="completed",
                    source="test",
                )
        ids.append(cohort.id)
    db.session.commit()
    factories.login(client, trainer)

    small, large = (_statements_for_page(client, cohort_id) for cohort_id in ids)
    assert small == large
    assert small < 15


def test_manual_is_chosen_from_the_curriculum_manuals(app, client):
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    page = _text(client.post("/cohorts/new?kind=tot", data=_tot_form(manual="no-such-manual")))
    assert "Choose a manual." in page
    assert db.session.scalar(select(func.count(Cohort.id))) == 0
    response = client.post("/cohorts/new?kind=tot", data=_tot_form())
    assert response.status_code == 302
    assert "Civic Education" in _text(client.get(response.headers["Location"]))
