"""The certificates pages as their users meet them: the trainer issuing to a cohort, the
graduate downloading, the administrator revoking and reissuing, a stranger checking."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from certificates.models import REVOKED, VALID, Certificate
from lms.extensions import db
from lms.jobs import Job
from tests import factories
from tests.certificates import helpers


def _login(app, person):
    client = app.test_client()
    factories.login(client, person)
    return client


@pytest.fixture
def cohort_with_trainer(app):
    cohort, done, trainer = helpers.completed_cohort(
        ["Айгүл Токтосунова", "Бакыт Осмонов"], not_completed=1
    )
    db.session.commit()
    return cohort, done, trainer


def test_trainer_chooses_a_design_and_issues_to_all_who_completed(app, cohort_with_trainer):
    cohort, done, trainer = cohort_with_trainer
    client = _login(app, trainer)

    section = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f"/certificates/cohorts/{cohort.id}" in section

    page = client.get(f"/certificates/cohorts/{cohort.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Not Yet 0" in text  # who has not completed, and why
    saved = client.post(
        f"/certificates/cohorts/{cohort.id}/design",
        data={"design": "tot-completion", "language": "ky"},
    )
    assert saved.status_code == 302
    refused = client.post(
        f"/certificates/cohorts/{cohort.id}/design",
        data={"design": "graduate", "language": "ky"},
    )
    assert refused.status_code == 400  # a class design does not suit a ToT

    issued = client.post(f"/certificates/cohorts/{cohort.id}/issue")
    assert issued.status_code == 302 and "/jobs/" in issued.headers["Location"]
    job = client.get(issued.headers["Location"]).get_data(as_text=True)
    assert f"/certificates/cohorts/{cohort.id}" in job  # the way back when it has finished

    certificates = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert sorted(c.recipient_id for c in certificates) == sorted(p.id for p in done)
    assert all(c.rendered and c.language == "ky" for c in certificates)
    assert db.session.get(Job, certificates[0].batch_id).status == "succeeded"

    archive = client.get(f"/certificates/cohorts/{cohort.id}/certificates.zip")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert sorted(n.split("-Айгүл")[0].split("-Бакыт")[0] for n in names) == sorted(
        c.serial for c in certificates
    )
    printed = client.get(f"/certificates/cohorts/{cohort.id}/print.pdf")
    assert printed.status_code == 200
    assert len(PdfReader(io.BytesIO(printed.data)).pages) == 2

    again = client.post(f"/certificates/cohorts/{cohort.id}/issue")
    assert again.status_code == 302 and "/jobs/" not in again.headers["Location"]


def test_other_trainers_and_learners_cannot_issue(app, cohort_with_trainer):
    cohort, (learner, *_), _trainer = cohort_with_trainer
    stranger = factories.user()
    other_cohort = factories.cohort()
    factories.member(other_cohort, stranger, "trainer")
    db.session.commit()
    for person in (stranger, learner):
        client = _login(app, person)
        assert client.get(f"/certificates/cohorts/{cohort.id}").status_code == 403
        assert client.post(f"/certificates/cohorts/{cohort.id}/issue").status_code == 403
    assert db.session.scalars(select(Certificate)).all() == []


def test_graduate_downloads_their_certificate_and_nobody_else_can(app, cohort_with_trainer):
    cohort, (graduate, other, *_), _trainer = cohort_with_trainer
    admin = factories.user("admin")
    db.session.commit()
    made = helpers.issue(cohort, admin)
    mine = next(c for c in made if c.recipient_id == graduate.id)
    theirs = next(c for c in made if c.recipient_id == other.id)

    client = _login(app, graduate)
    home = client.get("/").get_data(as_text=True)
    assert mine.serial in home  # the home page's "My certificates" panel
    listing = client.get("/certificates/").get_data(as_text=True)
    assert mine.serial in listing and theirs.serial not in listing
    download = client.get(f"/certificates/{mine.id}/certificate.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "no-store" in download.headers["Cache-Control"]
    assert client.get(f"/certificates/{theirs.id}/certificate.pdf").status_code == 404
    assert client.get(f"/certificates/{theirs.id}").status_code == 404
    api = client.get("/api/v1/certificates").get_json()
    assert [c["serial"] for c in api["certificates"]] == [mine.serial]
    assert client.get(f"/api/v1/certificates/{theirs.id}").status_code == 404
    one = client.get(f"/api/v1/certificates/{mine.id}").get_json()
    assert one["credential"]["type"][1] == "OpenBadgeCredential"


def test_anyone_checks_a_certificate_by_its_code_without_logging_in(app, cohort_with_trainer):
    cohort, (graduate, *_), _trainer = cohort_with_trainer
    admin = factories.user("admin")
    db.session.commit()
    certificate = next(c for c in helpers.issue(cohort, admin) if c.recipient_id == graduate.id)
    code = certificate.verification_id
    stranger = app.test_client()

    page = stranger.get(f"/verify/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Valid certificate" in text and graduate.name in text and certificate.serial in text
    assert graduate.username not in text  # nothing more than what is printed

    grouped = "-".join(code[i : i + 4] for i in range(0, 32, 4)).upper()
    short = stranger.get(f"/v/{grouped}")
    assert short.status_code == 301 and short.headers["Location"].endswith(f"/verify/{code}")
    typed = stranger.get("/verify/", query_string={"code": f"https://x/v/{grouped}"})
    assert typed.status_code == 302
    bad = stranger.get("/verify/", query_string={"code": "not a code"})
    assert bad.status_code == 400 and "32 letters" in bad.get_data(as_text=True)
    assert stranger.get("/verify/" + "a" * 32).status_code == 404

    data = stranger.get(f"/verify/{code}.json").get_json()
    assert data["status"] == VALID and data["name"] == graduate.name
    assert data["credential"]["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    profile = stranger.get("/certificates/issuer").get_json()
    assert profile["verificationMethod"][0]["id"].endswith("#key-1")
    listed = stranger.get(f"/certificates/status/{certificate.status_list_id}")
    assert listed.status_code == 200
    assert listed.get_json()["credentialSubject"]["type"] == "BitstringStatusList"


def test_admin_revokes_and_reissues_and_the_public_page_says_so(app, cohort_with_trainer):
    cohort, (graduate, other, *_), _trainer = cohort_with_trainer
    admin = factories.user("admin")
    db.session.commit()
    made = helpers.issue(cohort, admin)
    first = next(c for c in made if c.recipient_id == graduate.id)
    second = next(c for c in made if c.recipient_id == other.id)
    client = _login(app, admin)

    empty = client.post(f"/certificates/{first.id}/revoke", data={"reason": ""})
    assert empty.status_code == 400
    revoked = client.post(f"/certificates/{first.id}/revoke", data={"reason": "Issued by mistake"})
    assert revoked.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, first.id).status == REVOKED
    public = app.test_client().get(f"/verify/{first.verification_id}").get_data(as_text=True)
    assert "Revoked" in public and "Issued by mistake" in public

    reissued = client.post(
        f"/certificates/{second.id}/reissue",
        data={"name": "Бакыт Осмонов уулу", "reason": "Full name requested"},
    )
    assert reissued.status_code == 302
    new = db.session.scalar(select(Certificate).where(Certificate.replaces_id == second.id))
    assert new is not None and new.rendered
    old_page = app.test_client().get(f"/verify/{second.verification_id}")
    assert "Replaced" in old_page.get_data(as_text=True)
    assert f"/verify/{new.verification_id}" in old_page.get_data(as_text=True)
    detail = client.get(f"/certificates/{new.id}").get_data(as_text=True)
    assert second.serial in detail and "Full name requested" in detail  # history and audit

    register = client.get("/certificates/register", query_string={"q": "Осмонов"})
    assert new.serial in register.get_data(as_text=True)


def test_a_monitoring_officer_reads_the_register_of_their_region_only(app):
    osh, _done, _t = helpers.completed_cohort(["Osh Learner"])
    chuy, _done2, _t2 = helpers.completed_cohort(["Chuy Learner"], region=factories.region("chuy"))
    admin = factories.user("admin")
    officer = factories.user("monitor", scope=factories.region("osh-region"))
    db.session.commit()
    (in_osh,) = helpers.issue(osh, admin)
    (in_chuy,) = helpers.issue(chuy, admin)
    client = _login(app, officer)
    register = client.get("/certificates/register").get_data(as_text=True)
    assert in_osh.serial in register and in_chuy.serial not in register
    assert client.get(f"/certificates/{in_osh.id}").status_code == 200
    assert client.get(f"/certificates/{in_chuy.id}").status_code == 404
    assert client.post(f"/certificates/{in_osh.id}/revoke", data={"reason": "x"}).status_code == 403


def test_an_administrator_issues_by_hand_with_a_reason(app, cohort_with_trainer):
    cohort, _done, _trainer = cohort_with_trainer
    admin = factories.user("admin")
    db.session.commit()
    late = db.session.scalar(
        select(Certificate.recipient_id).where(Certificate.cohort_id == cohort.id)
    )
    assert late is None
    client = _login(app, admin)
    page = client.get(f"/certificates/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Issue by hand" in page
    from lms.accounts.models import User

    not_yet = db.session.scalar(select(User).where(User.name == "Not Yet 0"))
    missing = client.post(
        f"/certificates/cohorts/{cohort.id}/issue-one",
        data={"recipient": not_yet.id, "reason": ""},
    )
    assert missing.status_code == 400
    done = client.post(
        f"/certificates/cohorts/{cohort.id}/issue-one",
        data={"recipient": not_yet.id, "reason": "Attended the make-up day"},
    )
    assert done.status_code == 302
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.recipient_id == not_yet.id)
    )
    assert certificate.basis == "manual" and certificate.rendered


def test_the_pdf_carries_the_signed_credential_and_the_command_line_checks_it(
    app, cohort_with_trainer, tmp_path
):
    from certificates.cli import verify_command

    cohort, _done, _trainer = cohort_with_trainer
    admin = factories.user("admin")
    db.session.commit()
    certificate = helpers.issue(cohort, admin)[0]
    client = _login(app, admin)
    pdf = client.get(f"/certificates/{certificate.id}/certificate.pdf").data
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    runner = app.test_cli_runner()
    result = runner.invoke(verify_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "printed name is the signed name" in result.output
    assert "[FAIL]" not in result.output

    qr = f"{certificate.printed['verification_url']}#t={certificate.token}"
    assert runner.invoke(verify_command, [qr]).exit_code == 0
    forged = qr[:-5] + ("A" if qr[-5] != "A" else "B") + qr[-4:]
    refused = runner.invoke(verify_command, [forged])
    assert refused.exit_code == 1 and "[FAIL]" in refused.output

    # A forgery: the same signed credential, another name printed on the page.
    from dataclasses import replace

    from certificates.designs import all_templates
    from certificates.printed import PrintedCertificate
    from certificates.render import render_certificate

    printed = replace(
        PrintedCertificate.from_json(certificate.printed), recipient_name="Someone Else"
    )
    forged_pdf = render_certificate(
        printed,
        all_templates()[certificate.design_id],
        qr_payload=qr,
        attachments={"credential.json": certificate.credential.encode()},
    )
    (tmp_path / "forged.pdf").write_bytes(forged_pdf)
    result = runner.invoke(verify_command, [str(tmp_path / "forged.pdf")])
    assert result.exit_code == 1
    assert "[FAIL] printed name is the signed name" in result.output
