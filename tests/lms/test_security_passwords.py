"""Passwords (ASVS 2.1, 2.4): argon2id, 8 to 256 characters in any alphabet, NFKC, no
composition rules, common passwords and the user name refused, everywhere a person chooses one."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import select

from lms.accounts import passwords, services
from lms.accounts.models import User
from lms.accounts.passwords import (
    COMMON_PASSWORDS_FILE,
    MAX_LENGTH,
    common_passwords,
    hash_password,
    password_problem,
    verify_password,
)
from lms.errors import Invalid
from lms.extensions import db
from tests import factories
from tests.conftest import TEST_HASHER


def test_new_hashes_are_argon2id_with_at_least_the_library_defaults():
    from argon2 import PasswordHasher

    assert hash_password("a long pass phrase").startswith("$argon2id$")
    defaults = PasswordHasher()
    hasher = passwords.DEFAULT_HASHER
    assert hasher.type.name == "ID"
    assert hasher.memory_cost >= defaults.memory_cost and hasher.time_cost >= defaults.time_cost


@pytest.mark.parametrize(
    "password",
    [
        "eight ch",  # exactly 8
        "x" * 64,
        "a" * 100 + "b" * 28,  # 128
        "q" * MAX_LENGTH,
        "алтын күз келди",  # Kyrgyz Cyrillic
        "كلمة سر طويلة جدا",  # Arabic
        "lowercase only words",  # no composition rules
        "12345678901234",  # digits only, not a common one
    ],
)
def test_these_passwords_are_accepted(password):
    assert password_problem(password, "nurgul") is None


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("seven c", "nurgul", "at least 8"),
        ("x" * (MAX_LENGTH + 1), "nurgul", f"at most {MAX_LENGTH}"),
        ("password", "nurgul", "most common"),
        ("PassWord1", "nurgul", "most common"),  # case does not help
        ("iloveyou", "nurgul", "most common"),
        ("nurgul2024!", "nurgul", "user name"),
        ("My NURGUL phrase", "nurgul", "user name"),
        ("aida.tokto", "Aida.Tokto", "user name"),
    ],
)
def test_these_passwords_are_refused_with_a_reason(password, username, message):
    problem = password_problem(password, username)
    assert problem is not None
    assert message in str(problem)


def test_the_common_list_is_bundled_lowercased_with_8_plus_characters_and_a_source():
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and "SecLists" in lines[0] and "MIT" in lines[0]
    words = common_passwords()
    assert len(words) > 1500
    assert all(len(word) >= 8 and word == word.lower() for word in words)
    assert not any(word.startswith("#") for word in words)
    assert {"password", "12345678", "qwertyuiop", "football"} <= words


def test_nfkc_makes_the_same_password_match_in_another_form():
    composed = "пароль йод ёлка"  # й and ё as single code points
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    stored = hash_password(composed)
    assert verify_password(stored, decomposed)
    full_width = "ｐａｓｓｐｈｒａｓｅ 42"  # a phone keyboard's full-width Latin
    assert verify_password(hash_password("passphrase 42"), full_width)
    assert not verify_password(stored, "пароль иод елка")


def test_hashes_made_before_normalisation_still_verify():
    typed = unicodedata.normalize("NFD", "ёлка и йогурт")
    old_hash = TEST_HASHER.hash(typed)  # hashed as typed, without NFKC
    assert verify_password(old_hash, typed)
    assert not verify_password(old_hash, "something else")


def test_every_place_a_person_chooses_a_password_applies_the_rules(app, client):
    admin = factories.user("admin", username="boss")
    person = factories.user("teacher", username="aibek")
    db.session.commit()
    # 1. Changing one's own password.
    factories.login(client, person)
    page = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "aibek is me",
            "confirm": "aibek is me",
        },
    ).get_data(as_text=True)
    assert "The password must not contain the user name." in page
    page = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "superman",
            "confirm": "superman",
        },
    ).get_data(as_text=True)
    assert "one of the most common ones" in page
    client.post("/account/logout")
    # 2. An administrator creating an account with a chosen password, or setting one.
    factories.login(client, admin)
    page = client.post(
        "/admin/users/new",
        data={
            "username": "cholpon",
            "name": "Cholpon",
            "sex": "female",
            "preferred_language": "ru",
            "password": "baseball",
            "role": "",
            "scope": "",
            "expertise": "",
        },
    ).get_data(as_text=True)
    assert "one of the most common ones" in page
    page = client.post(
        f"/admin/users/{person.id}/password", data={"new_password": "Aibek-2024"}
    ).get_data(as_text=True)
    assert "The password must not contain the user name." in page
    assert db.session.scalar(select(User.id).where(User.username == "cholpon")) is None
    # 3. The services behind the command line (lms create-user) and the CSV import.
    with pytest.raises(Invalid) as refused:
        services.create_user(
            username="dinara", name="Dinara", sex="female", password="dinara-rocks"
        )
    assert "user name" in str(refused.value.field_errors["password"][0])
    db.session.rollback()


def test_lms_create_user_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--username", "ermek", "--name", "Ermek", "--sex", "male"],
        input="12345678\n12345678\n",
    )
    assert result.exit_code != 0
    assert "most common" in result.output
    assert db.session.scalar(select(User.id).where(User.username == "ermek")) is None
