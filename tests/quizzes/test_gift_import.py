"""Importing GIFT into a question bank and exporting it again: service, CLI and pages.

The rule every test here leans on: a file with any problem imports nothing, so each failing
case also checks the database is unchanged.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from curriculum.services import create_manual
from lms.audit.models import AuditEntry
from lms.extensions import db
from quizzes import gift_io
from quizzes.gift import GiftError, parse_gift
from quizzes.models import Question, QuestionBank, QuestionVersion
from quizzes.services import create_bank
from tests import factories

SUN = "::Sun:: The sun rises in the east. {T}"
GIFT_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "gift"
FILES = {
    "moodle-examples.gift.txt": (
        43,
        {"multichoice": 18, "shortanswer": 9, "numerical": 8, "truefalse": 5, "match": 3},
        2,
        [],
    ),
    "moodle-fixture-questions.gift.txt": (
        9,
        {
            "essay": 1,
            "match": 1,
            "multichoice": 2,
            "numerical": 1,
            "shortanswer": 1,
            "truefalse": 3,
        },
        1,
        [],
    ),
    "moodle-fixture-questions-in-category.gift.txt": (
        4,
        {"match": 1, "multichoice": 1, "shortanswer": 1, "truefalse": 1},
        0,
        ["$course$/Default for New Features"],
    ),
}


def fixture_path(name: str) -> Path:
    path = GIFT_DIR / name
    if not path.is_file():
        pytest.skip(f"conformance fixture {path} is missing (clone shared/ beside the repo)")
    return path


def make_bank(name: str = "Pre-test", manual: str = "health-basics") -> QuestionBank:
    from curriculum.services import get_manual

    if get_manual(manual) is None:
        create_manual(slug=manual, title_en=manual.replace("-", " ").title(), actor_id=None)
    return create_bank(name=name, manual_slug=manual, actor_id=None)


def question_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Question)) or 0


def gift_audits() -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quizzes.gift.import"))
    )


# --- the service ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FILES))
def test_conformance_files_import_with_moodles_counts(app, name):
    total, counts, multiple, categories = FILES[name]
    bank = make_bank()
    text = fixture_path(name).read_text(encoding="utf-8")
    report = gift_io.import_gift(bank, text, actor_id=None, language="en", filename=name)
    db.session.commit()
    assert report.total == total
    assert report.counts == counts
    assert report.multiple_answer == multiple
    assert report.categories == categories
    stored = db.session.execute(
        select(Question, QuestionVersion).join(QuestionVersion).order_by(Question.id)
    ).all()
    assert len(stored) == total
    assert Counter(version.qtype for _q, version in stored) == counts
    assert all(version.number == 1 for _q, version in stored)
    assert {question.language for question, _v in stored} == {"en"}
    if categories:
        assert {question.category for question, _v in stored} == set(categories)
    [audit] = gift_audits()
    assert audit.object_id == str(bank.id)
    assert audit.details["questions"] == total


@pytest.mark.parametrize("name", list(FILES))
def test_export_then_import_gives_equal_questions(app, name):
    text = fixture_path(name).read_text(encoding="utf-8")
    first = make_bank("First")
    gift_io.import_gift(first, text, actor_id=None, language="ky")
    exported = gift_io.export_gift(first)
    assert parse_gift(exported).questions == parse_gift(text).questions
    second = make_bank("Second")
    gift_io.import_gift(second, exported, actor_id=None, language="ky")
    db.session.commit()
    assert gift_io.bank_questions(second) == gift_io.bank_questions(first)
    assert gift_io.bank_questions(first) == parse_gift(text).questions


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("Good {T}\n\nBroken {=a ~b\n", [3]),
        ("Good {T}\n\nQ {#12..x}\n\nQ {~only}\n", [3, 5]),
        ("Q {\n=a -> b\n}\n", [2]),
        # Moodle's parser accepts this; the short-answer type needs one answer worth something.
        ("Good {T}\n\nQ {\n=%0%nothing\n}\n", [3]),
        # A numerical answer worth a negative fraction is refused by the numerical type.
        ("Q {#\n=5\n=%-50%6}\n", [3]),
    ],
)
def test_a_file_with_problems_imports_nothing(app, text, lines):
    bank = make_bank()
    db.session.commit()
    with pytest.raises(GiftError) as caught:
        gift_io.import_gift(bank, text, actor_id=None, language="en")
    db.session.rollback()
    assert [problem.line for problem in caught.value.problems] == lines
    assert question_count() == 0
    assert gift_audits() == []


def test_unknown_language_is_refused(app):
    bank = make_bank()
    with pytest.raises(Exception, match="not valid"):
        gift_io.import_gift(bank, "Q {T}", actor_id=None, language="de")
    assert question_count() == 0


def test_export_takes_latest_versions_and_leaves_archived_questions_out(app):
    bank = make_bank()
    gift_io.import_gift(
        bank, "::One:: First {T}\n\n::Two:: Second {F}", actor_id=None, language="en"
    )
    one, two = db.session.scalars(select(Question).order_by(Question.id)).all()
    one.versions.append(
        QuestionVersion(number=2, qtype="truefalse", text="First, edited", data={"correct": False})
    )
    two.archived = True
    db.session.commit()
    exported = gift_io.export_gift(bank)
    [question] = parse_gift(exported).questions
    assert (question.name, question.text, question.data["correct"]) == (
        "One",
        "First, edited",
        False,
    )


def test_decode_gift_accepts_a_bom_and_refuses_other_encodings():
    assert gift_io.decode_gift("\ufeffQ {T}".encode()) == "Q {T}"
    for data, words in [
        (b"", "empty"),
        ("Q {T}".encode("utf-16"), "UTF-16"),
        ("Вопрос {T}".encode("cp1251"), "UTF-8"),
        (b"x" * (gift_io.MAX_BYTES + 1), "larger than 1 MB"),
    ]:
        with pytest.raises(Exception, match=words):
            gift_io.decode_gift(data)


# --- the command line ----------------------------------------------------------------------


def test_cli_imports_into_a_new_bank_and_prints_counts(make_app):
    app = make_app()
    with app.app_context():
        create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
        db.session.commit()
    path = fixture_path("moodle-fixture-questions-in-category.gift.txt")
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["quizzes", "import-gift", str(path), "--bank", "Imported"])
    assert missing.exit_code != 0 and "--manual" in missing.output
    wrong = runner.invoke(
        args=["quizzes", "import-gift", str(path), "--bank", "Imported", "--manual", "nope"]
    )
    assert wrong.exit_code != 0 and "no manual 'nope'" in wrong.output
    result = runner.invoke(
        args=[
            "quizzes",
            "import-gift",
            str(path),
            "--bank",
            "Imported",
            "--manual",
            "health-basics",
            "--language",
            "ru",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created the question bank 'Imported'" in result.output
    assert "Imported 4 question(s)" in result.output
    assert "multichoice  1 (1 single answer, 0 multiple answer)" in result.output
    assert "truefalse    1" in result.output
    assert "Category changed to: $course$/Default for New Features" in result.output
    with app.app_context():
        assert question_count() == 4
        assert set(db.session.scalars(select(Question.language))) == {"ru"}
    again = runner.invoke(args=["quizzes", "import-gift", str(path), "--bank", "Imported"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert question_count() == 8
        assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 1


def test_cli_prints_every_problem_and_imports_nothing(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
        db.session.commit()
    bad = tmp_path / "bad.gift"
    bad.write_text("Good {T}\n\nQ {#abc}\n\n// comment\nQ {~a}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["quizzes", "import-gift", str(bad), "--bank", "New", "--manual", "health-basics"]
    )
    assert result.exit_code != 0
    assert f"{bad}:3: The numerical answer “abc” is not a number" in result.output
    assert f"{bad}:6: A multiple-choice question needs at least two options" in result.output
    assert "2 problem(s) found; nothing was imported." in result.output
    with app.app_context():
        assert question_count() == 0
        assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0
    latin1 = tmp_path / "latin1.gift"
    latin1.write_bytes("Café? {T}".encode("latin-1"))
    result = app.test_cli_runner().invoke(
        args=["quizzes", "import-gift", str(latin1), "--bank", "New", "--manual", "health-basics"]
    )
    assert result.exit_code != 0 and "not in UTF-8" in result.output


def test_cli_exports_a_bank(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        bank = make_bank("Final")
        gift_io.import_gift(
            bank, "::Sun:: The sun rises in the east. {T}", actor_id=None, language="en"
        )
        db.session.commit()
    out = tmp_path / "bank.gift"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["quizzes", "export-gift", "--bank", "Final", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 1 question(s)" in result.output
    [question] = parse_gift(out.read_text(encoding="utf-8")).questions
    assert (question.name, question.qtype) == ("Sun", "truefalse")
    to_stdout = runner.invoke(args=["quizzes", "export-gift", "--bank", "Final", "-"])
    assert "::Sun::The sun rises in the east.{TRUE}" in to_stdout.output
    missing = runner.invoke(args=["quizzes", "export-gift", "--bank", "Nothing", str(out)])
    assert missing.exit_code != 0 and "no question bank" in missing.output


# --- the pages -----------------------------------------------------------------------------


def _upload(client, bank_id, data: bytes, filename="questions.gift", language="en"):
    return client.post(
        f"/quizzes/banks/{bank_id}/import",
        data={"file": (io.BytesIO(data), filename), "language": language},
        content_type="multipart/form-data",
    )


def test_trainer_imports_a_file_and_sees_the_counts(app, client):
    bank = make_bank()
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    form = client.get(f"/quizzes/banks/{bank.id}/import")
    assert form.status_code == 200 and 'type="file"' in form.get_data(as_text=True)
    data = fixture_path("moodle-fixture-questions.gift.txt").read_bytes()
    response = _upload(client, bank.id, b"\xef\xbb\xbf" + data, language="ky")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "9 questions have been added" in page
    assert question_count() == 9
    assert set(db.session.scalars(select(Question.language))) == {"ky"}
    [audit] = gift_audits()
    assert audit.actor_id == trainer.id


def test_a_file_with_problems_shows_lines_and_saves_nothing(app, client):
    bank = make_bank()
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    response = _upload(client, bank.id, b"Good {T}\n\nQ {#3,5}\n\nQ {\n=a\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page and "write decimals with a dot, like 3.5" in page
    assert "<td>5</td>" in page and "not closed" in page
    assert question_count() == 0
    assert gift_audits() == []


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (b"x" * (1024 * 1024 + 1), "big.gift", "larger than 1 MB"),
        ("Вопрос {T}".encode("cp1251"), "q.txt", "not in UTF-8"),
        (b"Q {T}", "questions.docx", "ends in .gift or .txt"),
    ],
)
def test_unreadable_uploads_are_refused(app, client, data, filename, words):
    bank = make_bank()
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    page = _upload(client, bank.id, data, filename).get_data(as_text=True)
    assert words in page
    assert question_count() == 0


def test_export_downloads_the_bank(app, client):
    bank = make_bank("Pre-test")
    gift_io.import_gift(
        bank, "::Sun:: The sun rises in the east. {T}", actor_id=None, language="en"
    )
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    response = client.get(f"/quizzes/banks/{bank.id}/export.gift")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "health-basics-pre-test.gift" in disposition
    assert "::Sun::The sun rises in the east.{TRUE}" in response.get_data(as_text=True)


def test_gift_pages_need_the_author_permission(app, client):
    bank = make_bank()
    student = factories.user("student")
    db.session.commit()
    factories.login(client, student)
    assert client.get(f"/quizzes/banks/{bank.id}/import").status_code == 403
    assert client.get(f"/quizzes/banks/{bank.id}/export.gift").status_code == 403
    assert _upload(client, bank.id, b"Q {T}").status_code == 403
    assert question_count() == 0
