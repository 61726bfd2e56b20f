"""Three languages: the switch, per-user memory, locale formats and translated errors."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale, format_date, format_decimal

from lms.accounts.models import User
from lms.extensions import db
from tests import factories


def test_visitor_gets_the_browser_language(client):
    page = client.get("/account/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.get_data(as_text=True)
    assert "Войти" in page.get_data(as_text=True)


def test_language_switch_is_remembered_in_the_session(client):
    response = client.post("/language", data={"lang": "ky", "next": "/account/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    page = client.get("/account/login").get_data(as_text=True)
    assert '<html lang="ky">' in page and "Кирүү" in page


def test_language_switch_is_remembered_per_user(app, client):
    person = factories.user("teacher", language="en")
    db.session.commit()
    factories.login(client, person)
    client.post("/language", data={"lang": "ru", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, person.id).preferred_language == "ru"

    other_device = app.test_client()
    factories.login(other_device, person)
    assert '<html lang="ru">' in other_device.get("/").get_data(as_text=True)


def test_unknown_language_is_a_clear_error(client):
    response = client.post("/language", data={"lang": "xx"})
    assert response.status_code == 400


def test_error_pages_speak_the_users_language(client):
    page = client.get("/no/such/page", headers={"Accept-Language": "ky"})
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert '<html lang="ky">' in text and "Табылган жок" in text
    page = client.get("/no/such/page", headers={"Accept-Language": "ru"})
    assert "Не найдено" in page.get_data(as_text=True)


def test_forbidden_page_in_russian(app, client):
    student = factories.user("student", language="ru")
    db.session.commit()
    factories.login(client, student)
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert "Доступ запрещён" in page.get_data(as_text=True)


def test_dates_and_numbers_follow_the_locale(app):
    with app.test_request_context():
        day = date(2026, 9, 14)
        with force_locale("en"):
            assert format_date(day, "long") == "September 14, 2026"
            assert format_decimal(15000) == "15,000"
        with force_locale("ru"):
            assert format_date(day, "long") == "14 сентября 2026\u202fг."
            assert format_decimal(15000) == "15\xa0000"
        with force_locale("ky"):
            assert "сентябрь" in format_date(day, "long")


def test_json_errors_for_the_api(client):
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404
    assert response.json["error"]["title"] == "Не найдено"


def test_form_messages_are_translated_into_kyrgyz_too(client):
    """WTForms has no Kyrgyz translation of its own; ours covers its messages."""
    page = client.post(
        "/account/login", data={"username": "", "password": ""}, headers={"Accept-Language": "ky"}
    ).get_data(as_text=True)
    assert "Бул талааны толтуруу милдеттүү." in page
    page = client.post(
        "/account/login", data={"username": "", "password": ""}, headers={"Accept-Language": "ru"}
    ).get_data(as_text=True)
    assert "Это поле обязательно." in page
