"""Editions: publishing exactly the approved text, numbering, the reader, /read, cohorts."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from sqlalchemy import func, select

from curriculum import editions, review, versions
from curriculum.content import Block
from curriculum.models import CohortEdition, Edition, ModuleVersion
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

ARABIC = Block("p-dddddd", "> إِنَّ اللَّهَ جَمِيلٌ يُحِبُّ الْجَمَالَ", "quote")


def submitted(
    slug: str = "hand-hygiene",
    *,
    position: int = 1,
    language: str = "en",
    title: str = "Hand hygiene",
    blocks: tuple[Block, ...] = helpers.BLOCKS,
) -> ModuleVersion:
    """A submitted version of any module of Health Basics (helpers only make one module)."""
    module = versions.get_or_create_module(helpers.manual(), slug, position)
    document = helpers.document(language, blocks, slug=slug, position=position, title=title)
    version = versions.create_draft(module, document, author_id=None)
    versions.submit(version, actor_id=None)
    db.session.flush()
    return version


def approved(reviewers, slug: str = "hand-hygiene", **kwargs) -> ModuleVersion:
    version = submitted(slug, **kwargs)
    for reviewer in reviewers:
        review.decide(version, reviewer, "approve")
    db.session.flush()
    return version


def with_text(text: str) -> tuple[Block, ...]:
    return (helpers.BLOCKS[0], Block("p-bbbbbb", text))


def login(app, person):
    db.session.commit()
    client = app.test_client()
    factories.login(client, person)
    return client


def test_publishing_takes_exactly_the_approved_versions(app):
    reviewers = helpers.panel()
    first = approved(reviewers)
    newer = submitted(blocks=with_text("A newer text still in review."))
    submitted("nutrition", position=2, title="Nutrition")  # nothing approved yet
    editor = factories.user("editor")
    client = login(app, editor)

    preview = client.get("/curriculum/health-basics/editions/en/publish")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "newer version in review" in page
    assert f"v{newer.number} is not approved yet" in page
    assert "left out" in page

    response = client.post(
        "/curriculum/health-basics/editions/en/publish", data={"notes": "First print run."}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/curriculum/health-basics/editions/en/1")
    edition = editions.get_edition(helpers.manual(), "en", 1)
    assert [entry.version_id for entry in edition.entries] == [first.id]
    assert edition.notes == "First print run."
    assert edition.published_by_id == editor.id
    (record,) = edition.signatories
    assert record["hash"] == first.content_hash
    assert sorted(seat["name"] for seat in record["seats"]) == sorted(r.name for r in reviewers)
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "edition.publish")
    )


def test_publishing_with_nothing_approved_shows_the_error(app):
    helpers.panel()
    submitted()
    client = login(app, factories.user("editor"))
    page = client.get("/curriculum/health-basics/editions/en/publish").get_data(as_text=True)
    assert "nothing to publish" in page
    response = client.post("/curriculum/health-basics/editions/en/publish", data={"notes": ""})
    assert response.status_code == 400
    assert "No module has an approved version in this language yet." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count(Edition.id))) == 0


def test_edition_numbers_go_up_per_manual_and_language(app):
    approved(helpers.panel())
    approved(helpers.panel(language="ky"), language="ky", title="Колдун тазалыгы")
    book = helpers.manual()
    numbers = [
        editions.publish(book, "en", actor_id=None).number,
        editions.publish(book, "en", actor_id=None).number,
        editions.publish(book, "ky", actor_id=None).number,
    ]
    assert numbers == [1, 2, 1]
    other = helpers.manual("civic-education")
    assert editions.latest_edition(other, "en") is None


def test_an_earlier_edition_keeps_its_own_text(app):
    reviewers = helpers.panel()
    approved(reviewers, blocks=with_text("Old advice: rinse with water."))
    book = helpers.manual()
    editions.publish(book, "en", actor_id=None)
    approved(reviewers, blocks=with_text("New advice: soap for twenty seconds."))
    editions.publish(book, "en", actor_id=None)
    client = login(app, factories.user("teacher"))

    old = client.get("/curriculum/health-basics/editions/en/1/hand-hygiene")
    new = client.get("/curriculum/health-basics/editions/en/2/hand-hygiene")
    assert old.status_code == new.status_code == 200
    assert "Old advice" in old.get_data(as_text=True)
    assert "New advice" not in old.get_data(as_text=True)
    assert "The latest is edition 2." in old.get_data(as_text=True)
    assert "New advice" in new.get_data(as_text=True)
    contents = client.get("/curriculum/health-basics/editions/en/1").get_data(as_text=True)
    assert "/curriculum/health-basics/editions/en/1/hand-hygiene" in contents


def test_reader_shows_arabic_right_to_left_in_the_edition_language(app):
    reviewers = helpers.panel(language="ky")
    approved(
        reviewers,
        language="ky",
        title="Колдун тазалыгы",
        blocks=(Block("p-aaaaaa", "Колуңузду самын менен жууңуз."), ARABIC),
    )
    approved(reviewers, "nutrition", position=2, language="ky", title="Туура тамактануу")
    editions.publish(helpers.manual(), "ky", actor_id=None)
    client = login(app, factories.user("teacher"))

    response = client.get("/curriculum/health-basics/editions/ky/1/hand-hygiene")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'dir="rtl"' in page
    assert "الْجَمَالَ" in page
    assert 'lang="ky"' in page
    assert "Колдун тазалыгы" in page
    assert "/curriculum/health-basics/editions/ky/1/nutrition" in page  # next module
    assert client.get("/curriculum/health-basics/editions/ky/1/nowhere").status_code == 404
    assert client.get("/curriculum/health-basics/editions/ky/9/hand-hygiene").status_code == 404


def approved_edition(language: str = "en"):
    """One approved module and a published first edition."""
    approved(helpers.panel(language=language), language=language)
    return editions.publish(helpers.manual(), language, actor_id=None)


def test_feedback_links_only_for_those_who_may_give_feedback(app):
    approved_edition()
    teacher = factories.user("teacher")
    reviewer_only = factories.user("reviewer", expertise="health")
    url = "/curriculum/health-basics/editions/en/1/hand-hygiene"
    teacher_page = login(app, teacher).get(url).get_data(as_text=True)
    reviewer_page = login(app, reviewer_only).get(url).get_data(as_text=True)
    assert "Give feedback on this paragraph" not in reviewer_page
    if "curriculum.give_feedback" in app.view_functions:
        assert "Give feedback on this paragraph" in teacher_page
        assert "paragraph=p-bbbbbb" in teacher_page


def test_read_sends_a_pinned_cohort_teacher_to_its_edition_and_others_to_the_latest(app):
    reviewers = helpers.panel()
    approved(reviewers, blocks=with_text("First text."))
    book = helpers.manual()
    first = editions.publish(book, "en", actor_id=None)
    approved(reviewers, blocks=with_text("Second text."))
    editions.publish(book, "en", actor_id=None)
    pinned_teacher = factories.user("teacher", language="en")
    other_teacher = factories.user("teacher", language="en")
    cohort = factories.cohort(CLASS, manual="health-basics")
    factories.member(cohort, pinned_teacher, "teacher")
    factories.member(factories.cohort(CLASS, manual="health-basics"), other_teacher, "teacher")
    editions.assign_to_cohort(cohort.id, first, actor_id=None)

    pinned = login(app, pinned_teacher).get("/curriculum/health-basics/read")
    other = login(app, other_teacher).get("/curriculum/health-basics/read")
    assert pinned.status_code == other.status_code == 302
    assert pinned.headers["Location"].endswith("/curriculum/health-basics/editions/en/1")
    assert other.headers["Location"].endswith("/curriculum/health-basics/editions/en/2")


def test_read_prefers_the_readers_language_then_english(app):
    approved_edition("en")
    approved_edition("ky")
    kyrgyz = login(app, factories.user("teacher", language="ky"))
    russian = login(app, factories.user("teacher", language="ru"))
    assert kyrgyz.get("/curriculum/health-basics/read").headers["Location"].endswith("/ky/1")
    assert russian.get("/curriculum/health-basics/read").headers["Location"].endswith("/en/1")


def test_read_without_any_edition_says_so(app):
    helpers.manual()
    response = login(app, factories.user("teacher")).get("/curriculum/health-basics/read")
    assert response.status_code == 200
    assert "has not been published yet" in response.get_data(as_text=True)


def test_editions_page_lists_editions_with_who_published_and_how_many_modules(app):
    reviewers = helpers.panel()
    approved(reviewers)
    approved(reviewers, "nutrition", position=2, title="Nutrition")
    editor = factories.user("editor", name="Aida Editor")
    editions.publish(helpers.manual(), "en", actor_id=editor.id)
    editor_page = login(app, editor).get("/curriculum/health-basics/editions")
    teacher_page = login(app, factories.user("teacher")).get("/curriculum/health-basics/editions")
    assert editor_page.status_code == teacher_page.status_code == 200
    editor_html = editor_page.get_data(as_text=True)
    assert "Edition 1" in editor_html
    assert "Aida Editor" in editor_html
    assert "<td>2</td>" in editor_html
    assert "/curriculum/health-basics/editions/ky/publish" in editor_html
    assert "Read the manual" in editor_html
    assert "/publish" not in teacher_page.get_data(as_text=True)


def test_permissions(app):
    approved_edition()
    student = login(app, factories.user("student"))
    assert student.get("/curriculum/health-basics/editions").status_code == 403
    assert student.get("/curriculum/health-basics/editions/en/1").status_code == 403
    assert student.get("/curriculum/health-basics/editions/en/1/hand-hygiene").status_code == 403
    assert student.get("/curriculum/health-basics/read").status_code == 403
    teacher = login(app, factories.user("teacher"))
    assert teacher.get("/curriculum/health-basics/editions/en/publish").status_code == 403
    assert teacher.post("/curriculum/health-basics/editions/en/publish").status_code == 403
    assert db.session.scalar(select(func.count(Edition.id))) == 1
    anonymous = app.test_client().get("/curriculum/health-basics/editions")
    assert anonymous.status_code == 302
    editor = login(app, factories.user("editor"))
    assert editor.get("/curriculum/health-basics/editions/xx/publish").status_code == 404
    assert editor.get("/curriculum/nowhere/editions").status_code == 404


def test_cohort_leaders_pin_an_edition_or_follow_the_latest(app):
    edition = approved_edition()
    cohort = factories.cohort(CLASS, manual="health-basics")
    leader = factories.user()
    factories.member(cohort, leader, "teacher")
    monitor = factories.user("monitor")
    leader_client = login(app, leader)

    page = leader_client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "the latest: 1" in page
    assert f'action="/curriculum/cohorts/{cohort.id}/edition"' in page

    url = f"/curriculum/cohorts/{cohort.id}/edition"
    response = leader_client.post(url, data={"cohort-edition-edition": str(edition.id)})
    assert response.status_code == 302
    assert db.session.get(CohortEdition, cohort.id).edition_id == edition.id
    page = leader_client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "This cohort teaches from edition 1" in page

    monitor_client = login(app, monitor)
    monitor_page = monitor_client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "This cohort teaches from edition 1" in monitor_page
    assert f'action="/curriculum/cohorts/{cohort.id}/edition"' not in monitor_page
    assert monitor_client.post(url, data={"cohort-edition-edition": ""}).status_code == 403

    leader_client.post(url, data={"cohort-edition-edition": ""})
    db.session.expire_all()
    assert db.session.get(CohortEdition, cohort.id) is None


def test_a_cohort_cannot_be_pinned_to_another_manuals_edition(app):
    approved_edition()
    other = helpers.manual("civic-education")
    foreign = Edition(manual_id=other.id, language="en", number=1, signatories=[])
    db.session.add(foreign)
    cohort = factories.cohort(CLASS, manual="health-basics")
    leader = factories.user()
    factories.member(cohort, leader, "teacher")
    client = login(app, leader)
    url = f"/curriculum/cohorts/{cohort.id}/edition"
    response = client.post(url, data={"cohort-edition-edition": str(foreign.id)})
    assert response.status_code == 302  # refused by the form: not one of the choices
    assert db.session.get(CohortEdition, cohort.id) is None


def test_a_cohort_without_a_manual_gets_no_edition_choice(app):
    cohort = factories.cohort(CLASS, manual="")
    leader = factories.user()
    factories.member(cohort, leader, "teacher")
    client = login(app, leader)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Choose the manual this cohort studies" in page
    assert client.post(f"/curriculum/cohorts/{cohort.id}/edition").status_code == 404


def test_a_teacher_who_only_belongs_to_a_cohort_reads_the_manuals(app, client):
    """Membership alone (no role grant) is enough; a student still cannot read them."""
    from lms.accounts.roles import PARTICIPANT, STUDENT

    manual = helpers.manual()
    participant = factories.user()  # no role grant: only a ToT membership
    tot = factories.cohort(manual=manual.slug)
    factories.member(tot, participant, PARTICIPANT)
    learner = factories.user()
    factories.member(factories.cohort(CLASS, manual=manual.slug), learner, STUDENT)
    db.session.commit()
    factories.login(client, participant)
    assert client.get(f"/curriculum/{manual.slug}/editions").status_code == 200
    stranger = app.test_client()
    factories.login(stranger, learner)
    assert stranger.get(f"/curriculum/{manual.slug}/editions").status_code == 403


def test_the_sign_off_dates_are_written_the_readers_way(app):
    reviewers = helpers.panel()
    approved(reviewers)
    editions.publish(helpers.manual(), "en", actor_id=None)
    day = editions.get_edition(helpers.manual(), "en", 1).signatories[0]["seats"][0]["date"]
    written = format_date(date.fromisoformat(day), locale="ru")  # e.g. "7 дек. 2026 г."

    reader = factories.user("teacher", language="ru")
    page = login(app, reader).get("/curriculum/health-basics/editions/en/1").get_data(as_text=True)
    assert f'<time datetime="{day}">{written}</time>' in page
