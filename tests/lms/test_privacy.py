"""A person's data: the export holds all of theirs and nobody else's; anonymisation removes
what identifies them, keeps every figure, and leaves their certificates verifiable."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from certificates import issuance
from certificates.models import Certificate
from certificates.verification import check_payload
from curriculum import feedback
from lessons.models import Attendance, PracticeLesson, PracticeScore, TeachingSession
from lms import privacy
from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.extensions import db
from lms.reports import service
from tests import factories, reports
from tests.certificates import helpers as certificate_helpers
from tests.curriculum import helpers as curriculum_helpers
from tests.quizzes.test_attempts import bank, make_quiz, take, truefalse

# --- a learner and a classmate with the same kinds of data -----------------------------------


def _world() -> dict[str, Any]:
    admin = factories.user("admin")
    trainer = factories.user(name="Gulnara Trainer")
    cohort = factories.cohort(completion_rule="marked-complete", name="Osh ToT 2026")
    factories.member(cohort, trainer, "trainer")
    aida = factories.user(name="Aida Toktosunova", username="aida.t")
    bermet = factories.user(name="Bermet Osmonova", username="bermet.o", sex="female")
    aida.email, aida.phone = "aida@example.org", "+996 555 010203"
    bermet.email, bermet.phone = "bermet@example.org", "+996 555 040506"
    for person in (aida, bermet):
        factories.member(cohort, person, "participant")
        certificate_helpers.mark_completed(cohort, person)
    accounts.grant_role(aida, "teacher", actor_id=admin.id)
    # Attendance at one session.
    session = TeachingSession(cohort_id=cohort.id, title="Day 1", held_on=date(2026, 4, 1))
    db.session.add(session)
    db.session.flush()
    for person, status in ((aida, "present"), (bermet, "absent")):
        db.session.add(
            Attendance(
                session_id=session.id, user_id=person.id, status=status, recorded_by_id=trainer.id
            )
        )
    # A practice lesson each, scored by the other (a peer) and the trainer.
    for person, peer in ((aida, bermet), (bermet, aida)):
        lesson = PracticeLesson(
            cohort_id=cohort.id, participant_id=person.id, taught_on=date(2026, 4, 2)
        )
        db.session.add(lesson)
        db.session.flush()
        db.session.add_all(
            [
                PracticeScore(practice_id=lesson.id, scorer_id=peer.id, role="peer",
                              scores={"c1": 4}, comment=f"Peer comment for {person.name}"),
                PracticeScore(practice_id=lesson.id, scorer_id=trainer.id, role="trainer",
                              scores={"c1": 5}, comment=f"Trainer comment for {person.name}"),
            ]
        )  # fmt: skip
    # A quiz each, with answers.
    questions = bank()
    question = truefalse(questions)
    quiz = make_quiz(cohort, [question])
    take(quiz, aida, {question: "1"})
    take(quiz, bermet, {question: "0"})
    # Feedback on a module, one by each.
    version = curriculum_helpers.submitted()
    feedback.add_feedback(version, author_id=aida.id, source="tot", body="Aida's own feedback.")
    feedback.add_feedback(version, author_id=bermet.id, source="tot", body="Bermet's feedback.")
    db.session.commit()
    issuance.issue_to_completers(cohort, actor=admin)
    db.session.commit()
    return {"admin": admin, "trainer": trainer, "cohort": cohort, "aida": aida, "bermet": bermet}


def _user_columns() -> set[str]:
    return {
        column.name
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "lms_user" for fk in column.foreign_keys)
    }


# --- export -------------------------------------------------------------------------------


def test_the_export_holds_the_persons_data(app):
    world = _world()
    aida = world["aida"]
    data = privacy.export(aida)
    json.dumps(data)  # it is JSON
    assert data["account"]["name"] == "Aida Toktosunova"
    assert data["account"]["email"] == "aida@example.org"
    assert "password_hash" not in data["account"]
    about = data["about_you"]
    assert [(g["role"], g["granted_by_id"]) for g in about["lms_role_grant"]] == [
        ("teacher", privacy.ANOTHER_PERSON)
    ]
    assert [m["role"] for m in about["lms_membership"]] == ["participant"]
    assert data["cohorts"][str(world["cohort"].id)]["name"] == "Osh ToT 2026"
    outcomes = {(r["item_type"], r["outcome"]) for r in about["lms_progress_record"]}
    assert ("lms.cohort", "completed") in outcomes
    assert [a["status"] for a in about["lessons_attendance"]] == ["present"]
    (attempt,) = about["quizzes_attempt"]
    assert attempt["user_id"] == aida.id and attempt["percent"] == 100
    assert [a["attempt_id"] for a in about["quizzes_answer"]] == [attempt["id"]]
    assert "idempotency_key" not in attempt
    assert len(about["lessons_practice_lesson"]) == 1
    assert sorted(s["comment"] for s in about["lessons_practice_score"]) == [
        "Peer comment for Aida Toktosunova",
        "Trainer comment for Aida Toktosunova",
    ]
    assert {s["scorer_id"] for s in about["lessons_practice_score"]} == {privacy.ANOTHER_PERSON}
    (certificate,) = data["certificates"]
    stored = db.session.scalar(select(Certificate).where(Certificate.recipient_id == aida.id))
    assert certificate["serial"] == stored.serial
    assert certificate["verification_url"].endswith(f"/verify/{stored.verification_id}")
    assert "pdf" not in about["certificates_certificate"][0]
    assert [f["body"] for f in data["written_by_you"]["curriculum_feedback"]] == [
        "Aida's own feedback."
    ]
    # Practice scores Aida gave Bermet are Bermet's data: counted, not copied.
    assert data["recorded_by_you"] == {"lessons_practice_score.scorer_id": 1}
    actions = [entry["action"] for entry in data["audit_log"]]
    assert "role.grant" in actions and "quizzes.attempt.submit" in actions
    assert "certificate.issued" in actions
    assert data["tables"]["lessons_attendance"]


def test_the_export_holds_nobody_elses_data(app):
    world = _world()
    aida, bermet = world["aida"], world["bermet"]
    data = privacy.export(aida)
    text = json.dumps(data, ensure_ascii=False)
    for secret in (
        "Bermet",
        "bermet",
        "bermet@example.org",
        "040506",
        bermet.username,
        "Bermet's feedback",
        "Peer comment for Bermet",
    ):
        assert secret not in text, secret
    # The trainer's name is there once: printed on Aida's certificate as its signatory.
    assert text.count("Gulnara") == 1
    printed = data["about_you"]["certificates_certificate"][0]["printed"]
    assert [s["name"] for s in printed["signatories"]] == ["Gulnara Trainer"]
    bermets_certificate = db.session.scalar(
        select(Certificate).where(Certificate.recipient_id == bermet.id)
    )
    assert bermets_certificate.serial not in text
    assert bermets_certificate.verification_id not in text
    user_columns = _user_columns()
    for table, rows in [*data["about_you"].items(), *data["written_by_you"].items()]:
        for row in rows:
            for column in user_columns & set(row):
                assert row[column] in (aida.id, privacy.ANOTHER_PERSON, None), (table, row)
    for entry in data["audit_log"]:
        assert entry["by"] in ("you", privacy.ANOTHER_PERSON, None)
        assert entry["details"].get("user_id") in (aida.id, privacy.ANOTHER_PERSON, None)
        assert entry["details"].get("recipient") in (aida.id, privacy.ANOTHER_PERSON, None)


def test_the_export_command_prints_json_and_is_audited(app):
    world = _world()
    result = app.test_cli_runner().invoke(args=["privacy", "export", "aida.t"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["account"]["username"] == "aida.t"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert entry.object_id == str(world["aida"].id) and entry.details == {"via": "cli"}
    missing = app.test_cli_runner().invoke(args=["privacy", "export", "nobody"])
    assert missing.exit_code == 1 and "no user" in missing.output


def test_an_administrator_downloads_the_export_from_the_user_page(app):
    world = _world()
    client = app.test_client()
    factories.login(client, world["admin"])
    page = client.get(f"/admin/users/{world['aida'].id}").get_data(as_text=True)
    assert f"/admin/users/{world['aida'].id}/privacy/export" in page
    response = client.post(f"/admin/users/{world['aida'].id}/privacy/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["account"]["name"] == "Aida Toktosunova"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert entry.actor_id == world["admin"].id


def test_only_administrators_may_export_or_anonymise(app):
    world = _world()
    client = app.test_client()
    factories.login(client, world["trainer"])
    user_id = world["aida"].id
    assert client.post(f"/admin/users/{user_id}/privacy/export").status_code == 403
    assert client.get(f"/admin/users/{user_id}/privacy/anonymise").status_code == 403
    assert (
        client.post(f"/admin/users/{user_id}/privacy/anonymise", data={"reason": "x"}).status_code
        == 403
    )
    assert db.session.get(User, user_id).name == "Aida Toktosunova"


# --- anonymisation ------------------------------------------------------------------------


def _figures(admin: User) -> list[tuple[str, str, list[str]]]:
    """Every figure of every indicator (values only: row labels may be people's names)."""
    result = []
    for indicator in service.registered():
        computed = service.compute(indicator, reports.filters_for(admin))
        for table in computed.tables:
            values = sorted(
                json.dumps(dict(row.values), sort_keys=True, default=str) for row in table.rows
            )
            result.append((indicator.id, table.id, values))
    return result


def test_anonymising_keeps_every_report_figure(app):
    world = reports.build_world()
    admin, people = world["admin"], world["people"]
    # Aida completed a ToT and has a certificate; Kanykei is a student in two classes.
    osh = world["cohorts"]["Osh ToT 2025"]
    issuance.issue_to_completers(osh, actor=admin)
    db.session.commit()
    before = _figures(admin)
    assert any(values for _i, _t, values in before)
    for name in ("Aida", "Kanykei"):
        privacy.anonymise(people[name], reason="The person asked.", actor_id=admin.id)
        db.session.commit()
    assert _figures(admin) == before
    assert audit.verify_chain() == []


def test_an_anonymised_person_loses_name_contacts_and_log_in(app):
    world = _world()
    aida, admin = world["aida"], world["admin"]
    client = app.test_client()
    factories.login(client, aida)
    assert client.get("/account/").status_code == 200
    pseudonym = privacy.anonymise(aida, reason="Asked on 3 May.", actor_id=admin.id)
    db.session.commit()
    person = db.session.get(User, aida.id)
    assert person.name == pseudonym and pseudonym.startswith("Learner ")
    assert person.username.startswith("anonymised-") and person.username != "aida.t"
    assert (person.email, person.phone, person.last_login_at) == (None, None, None)
    assert not person.active and person.sex == "female"
    # The open session ends, and neither the old nor the new user name logs in.
    assert client.get("/account/").status_code == 302
    for username in ("aida.t", person.username):
        assert accounts.authenticate(username, factories.PASSWORD) is None
    fresh = app.test_client()
    fresh.post("/account/login", data={"username": "aida.t", "password": factories.PASSWORD})
    assert fresh.get("/account/").status_code == 302
    # Rows figures depend on are all still there.
    assert db.session.scalars(select(Attendance).where(Attendance.user_id == aida.id)).all()
    # The audit entry says who, when and why, and not the name.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.anonymise"))
    assert entry.actor_id == admin.id and entry.object_id == str(aida.id)
    assert entry.details["reason"] == "Asked on 3 May."
    assert "Aida" not in json.dumps(entry.details) and "aida.t" not in json.dumps(entry.details)
    assert audit.verify_chain() == []
    # What is left to export names nobody.
    assert "Toktosunova" not in json.dumps(privacy.export(person)["account"])


def test_an_anonymised_persons_certificate_still_verifies(app):
    world = _world()
    aida, admin = world["aida"], world["admin"]
    certificate = db.session.scalar(select(Certificate).where(Certificate.recipient_id == aida.id))
    token, credential, code = certificate.token, certificate.credential, certificate.verification_id
    privacy.anonymise(aida, reason="The person asked.", actor_id=admin.id)
    db.session.commit()
    for payload in (token, credential, f"https://lms.example/verify/{code}#t={token}"):
        report = check_payload(payload.encode())
        assert report.ok, [(c.what, c.ok, c.detail) for c in report.checks]
        assert ("status", True, "valid") in [(c.what, c.ok, c.detail) for c in report.checks]
    # The certificate is frozen: it prints, and the page shows, the name as issued.
    page = app.test_client().get(f"/verify/{code}")
    assert page.status_code == 200 and "Aida Toktosunova" in page.get_data(as_text=True)
    assert db.session.get(Certificate, certificate.id).name_as_printed == "Aida Toktosunova"


def test_anonymising_needs_a_reason_and_happens_once(app):
    world = _world()
    aida, admin = world["aida"], world["admin"]
    with pytest.raises(privacy.Invalid):
        privacy.anonymise(aida, reason="  ", actor_id=admin.id)
    with pytest.raises(privacy.Invalid):
        privacy.anonymise(admin, reason="Testing", actor_id=admin.id)
    privacy.anonymise(aida, reason="Asked.", actor_id=admin.id)
    db.session.commit()
    with pytest.raises(privacy.Conflict):
        privacy.anonymise(aida, reason="Again.", actor_id=admin.id)
    db.session.rollback()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "privacy.anonymise")
    ).all()
    assert len(entries) == 1


def test_an_administrator_anonymises_from_the_user_page(app):
    world = _world()
    aida, admin = world["aida"], world["admin"]
    client = app.test_client()
    factories.login(client, admin)
    url = f"/admin/users/{aida.id}/privacy/anonymise"
    assert url in client.get(f"/admin/users/{aida.id}").get_data(as_text=True)
    confirm = client.get(url).get_data(as_text=True)
    assert "Aida Toktosunova" in confirm and "cannot be undone" in confirm
    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 200 and db.session.get(User, aida.id).active
    response = client.post(url, data={"reason": "The person asked by letter."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, aida.id).name.startswith("Learner ")
    assert "already been anonymised" in client.get(url).get_data(as_text=True)
    own = client.get(f"/admin/users/{admin.id}/privacy/anonymise").get_data(as_text=True)
    assert "cannot anonymise your own account" in own


def test_the_anonymise_command(app):
    world = _world()
    refused = app.test_cli_runner().invoke(args=["privacy", "anonymise", "aida.t", "--yes"])
    assert refused.exit_code == 2 and "--reason" in refused.output
    result = app.test_cli_runner().invoke(
        args=["privacy", "anonymise", "aida.t", "--reason", "Asked by phone.", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "Learner " in result.output and "Aida" not in result.output
    person = db.session.get(User, world["aida"].id)
    db.session.refresh(person)
    assert not person.active and person.name.startswith("Learner ")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.anonymise"))
    assert entry.actor_id is None and entry.details["via"] == "cli"


def test_a_class_student_can_be_anonymised_too(app):
    """Students of madrasa classes (not only ToT participants)."""
    admin = factories.user("admin")
    group = factories.cohort(CLASS)
    student = factories.user(name="Student Name")
    factories.member(group, student, "student")
    db.session.commit()
    privacy.anonymise(student, reason="Left the madrasa; parents asked.", actor_id=admin.id)
    db.session.commit()
    assert privacy.is_anonymised(student)


def test_export_and_anonymisation_need_a_recent_password(app, monkeypatch):
    """Both are sensitive: after ``FRESH_LOGIN_MINUTES`` the administrator confirms the
    password first, and nothing is exported or changed meanwhile."""
    from lms.accounts import sessions

    world = _world()
    aida, admin = world["aida"], world["admin"]
    client = app.test_client()
    factories.login(client, admin)
    real = sessions.now
    monkeypatch.setattr(sessions, "now", lambda: real() + 11 * 60)
    for method, url, data in (
        ("post", f"/admin/users/{aida.id}/privacy/export", {}),
        ("get", f"/admin/users/{aida.id}/privacy/anonymise", {}),
        ("post", f"/admin/users/{aida.id}/privacy/anonymise", {"reason": "Asked."}),
    ):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/confirm"), url
    db.session.expire_all()
    assert db.session.get(User, aida.id).name == "Aida Toktosunova"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert not actions & {"privacy.export", "privacy.anonymise"}
