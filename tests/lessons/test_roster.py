"""Importing a class list from CSV: accounts, memberships, and all-or-nothing checking."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from lessons import roster
from lms.accounts.models import User
from lms.accounts.roles import STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS, TOT, Membership
from lms.extensions import db
from tests import factories

FIRST = ["Айгерим", "Бакыт", "Нурлан", "Гүлнара", "Эрмек"]
LAST = ["Токтосунова", "Асанов", "Жумабеков", "Өмүрбекова", "Сыдыков"]


@pytest.fixture
def klass(app):
    group = factories.cohort(CLASS, name="Grade 5")
    teacher = factories.user(name="Class Teacher")
    factories.member(group, teacher, TEACHER)
    db.session.commit()
    return group, teacher


def _upload(client, cohort, text: str | bytes, filename: str = "class.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        f"/lessons/cohorts/{cohort.id}/roster",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _students(cohort) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role == STUDENT)
            .order_by(User.id)
        )
    )


def _count_users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_twenty_five_students_get_accounts_and_memberships(klass, client):
    cohort, teacher = klass
    lines = ["name,sex,language"]
    for i in range(25):
        first, last = FIRST[i % 5], LAST[(i // 5) % 5]
        sex = "ж" if first in ("Айгерим", "Гүлнара") else "м"
        lines.append(f"{first} {last},{sex},{'ky' if i % 2 else ''}")
    factories.login(client, teacher)
    response = _upload(client, cohort, "\n".join(lines) + "\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Students imported" in page
    assert response.headers["Cache-Control"] == "no-store"

    students = _students(cohort)
    assert len(students) == 25
    aigerim = next(s for s in students if s.name == "Айгерим Токтосунова")
    assert aigerim.username == "aigerim.toktosunova" and aigerim.sex == "female"
    assert {s.preferred_language for s in students} == {"en", "ky"}  # empty: the teacher's
    assert "gulnara.omurbekova" in {s.username for s in students}

    # The passwords are on the page once, and only their hashes are stored.
    passwords = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", page)
    assert len(passwords) == 25
    assert all(p not in s.password_hash for s, p in zip(students, passwords, strict=False))
    client.post("/account/logout")
    assert factories.login(client, aigerim, passwords[0]).status_code == 302

    actions = dict(
        db.session.execute(
            select(AuditEntry.action, func.count(AuditEntry.id)).group_by(AuditEntry.action)
        ).all()
    )
    assert actions["user.create"] == 25 and actions["membership.add"] == 25
    assert actions["cohort.roster_import"] == 1


def test_a_bad_row_imports_nothing_and_every_problem_is_reported(klass, client):
    cohort, teacher = klass
    before = _count_users()
    text = (
        "name,sex,username,phone\n"
        "Айгерим Токтосунова,ж,,\n"
        "\n"  # a blank row still counts, as in the spreadsheet
        ",м,,\n"
        "Бакыт Асанов,robot,,\n"
        "Нурлан Жумабеков,м,Not Valid!,\n"
        "Эрмек Сыдыков,м,,+996 555 123 456 789 000 111 222 333 444\n"
    )
    factories.login(client, teacher)
    page = _upload(client, cohort, text).get_data(as_text=True)
    assert "Nothing was imported" in page and "The file has 4 problems." in page
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>", page)
    assert rows == [("4", "name"), ("5", "sex"), ("6", "username"), ("7", "phone")]
    assert "Write female or male" in page and "full name." in page
    assert _count_users() == before and _students(cohort) == []


def test_problems_are_reported_in_the_users_language(klass, client):
    cohort, teacher = klass
    teacher.preferred_language = "ru"
    db.session.commit()
    factories.login(client, teacher)
    page = _upload(client, cohort, "name,sex\nАйгерим,robot\n").get_data(as_text=True)
    assert "Ничего не импортировано" in page
    assert "Укажите female или male (ж или м, аял или эркек), а не «robot»." in page


def test_utf8_with_bom_and_semicolons(klass, client):
    cohort, teacher = klass
    text = "\ufeffФИО;Пол;Телефон\r\nАйгерим Токтосунова;женский;+996 700 000 000\r\n"
    factories.login(client, teacher)
    assert "Students imported" in _upload(client, cohort, text).get_data(as_text=True)
    (student,) = _students(cohort)
    assert student.username == "aigerim.toktosunova" and student.phone == "+996 700 000 000"


def test_a_file_not_in_utf8_is_refused_with_a_clear_message(klass, client):
    cohort, teacher = klass
    factories.login(client, teacher)
    page = _upload(client, cohort, "name,sex\nАйгерим,ж\n".encode("cp1251")).get_data(as_text=True)
    assert "The file is not in UTF-8" in page and _students(cohort) == []


def test_duplicates_within_the_file(klass, client):
    cohort, teacher = klass
    factories.user(username="bakyt.asanov", name="Бакыт Асанов", sex="male")
    db.session.commit()
    text = (
        "name,sex,username\n"
        "Айгерим Токтосунова,ж,\n"
        "Бакыт Асанов,м,bakyt.asanov\n"
        "айгерим  токтосунова,ж,\n"
        "Бакыт Асанов,м,BAKYT.ASANOV\n"
    )
    factories.login(client, teacher)
    page = _upload(client, cohort, text).get_data(as_text=True)
    assert "айгерим токтосунова is also on row 2." in page
    assert "The user name bakyt.asanov is also on row 3." in page
    assert _students(cohort) == []


def test_existing_accounts_are_matched_and_generated_names_made_unique(klass, client):
    cohort, teacher = klass
    known = factories.user(username="bakyt.asanov", name="Бакыт Асанов", sex="male")
    namesake = factories.user(username="aigerim.toktosunova", name="Другая Айгерим")
    already = factories.user(username="eldiyar", name="Элдияр Маматов", sex="male")
    factories.member(cohort, already, STUDENT)
    db.session.commit()
    before = _count_users()
    text = (
        "username,name,sex\n"
        "bakyt.asanov,Бакыт Асанов,\n"
        "Eldiyar,,\n"
        ",Айгерим Токтосунова,ж\n"
        ",Айгерим Токтосунова Бакытовна,ж\n"
    )
    factories.login(client, teacher)
    page = _upload(client, cohort, text).get_data(as_text=True)
    assert "1 student was already in the class." in page
    assert _count_users() == before + 2
    usernames = {s.username for s in _students(cohort)}
    assert usernames == {
        "bakyt.asanov",
        "eldiyar",
        "aigerim.toktosunova2",
        "aigerim.toktosunova3",
    }
    assert known.password_hash == factories._password_hash()  # existing accounts untouched
    assert namesake not in _students(cohort)


def test_a_user_name_of_someone_else_is_refused(klass, client):
    cohort, teacher = klass
    factories.user(username="bakyt.asanov", name="Бакыт Асанов", sex="male")
    other_teacher = factories.user(username="mugalim", name="Мугалим")
    factories.member(cohort, other_teacher, TEACHER)
    db.session.commit()
    text = "username,name,sex\nbakyt.asanov,Нурлан Жумабеков,м\nmugalim,,\n"
    factories.login(client, teacher)
    page = _upload(client, cohort, text).get_data(as_text=True)
    assert "The user name bakyt.asanov belongs to Бакыт Асанов." in page
    assert "Мугалим is already in this class as Teacher." in page
    assert _students(cohort) == []


def test_reimporting_the_same_list_does_not_create_twins(klass, client):
    cohort, teacher = klass
    factories.login(client, teacher)
    _upload(client, cohort, "name,sex\nАйгерим Токтосунова,ж\n")
    page = _upload(client, cohort, "name,sex\nАйгерим Токтосунова,ж\n").get_data(as_text=True)
    assert "is already in this class (user name aigerim.toktosunova)" in page
    assert len(_students(cohort)) == 1


def test_a_teacher_of_another_class_is_refused(klass, client):
    cohort, _ = klass
    other = factories.cohort(CLASS, name="Grade 6")
    stranger = factories.user(name="Other Teacher")
    factories.member(other, stranger, TEACHER)
    db.session.commit()
    factories.login(client, stranger)
    assert client.get(f"/lessons/cohorts/{cohort.id}/roster").status_code == 403
    response = _upload(client, cohort, "name,sex\nАйгерим Токтосунова,ж\n")
    assert response.status_code == 403 and _students(cohort) == []
    assert client.get(f"/lessons/cohorts/{other.id}/roster").status_code == 200


def test_the_template_and_tot_cohorts(klass, client):
    cohort, teacher = klass
    tot = factories.cohort(TOT)
    factories.member(tot, teacher, "trainer")
    db.session.commit()
    factories.login(client, teacher)
    template = client.get(f"/lessons/cohorts/{cohort.id}/roster/template.csv?sep=semicolon")
    assert template.get_data(as_text=True) == "\ufeffname;sex;username;language;phone\r\n"
    assert client.get(f"/lessons/cohorts/{tot.id}/roster").status_code == 400


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Айгерим Токтосунова", "aigerim.toktosunova"),
        ("Aigerim Toktosunova", "aigerim.toktosunova"),
        ("Гүлнара  Өмүрбекова Асановна", "gulnara.omurbekova"),
        ("Жаңыл", "zhangyl"),
        ("José Müller", "jose.muller"),
        ("محمد", "student"),
    ],
)
def test_user_names_made_from_names(name, expected):
    assert roster.username_base(name) == expected
