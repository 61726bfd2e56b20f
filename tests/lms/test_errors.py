"""Errors reach people as pages in their language, never as tracebacks."""

from __future__ import annotations

from flask import Blueprint

from lms.errors import Conflict
from lms.extensions import db
from tests import factories

boom = Blueprint("boom", __name__)


@boom.get("/boom")
def explode():
    raise RuntimeError("secret internals: SELECT password_hash FROM lms_user")


@boom.get("/conflict")
def conflict():
    raise Conflict()


def test_unexpected_error_is_a_500_page_without_internals(make_app):
    app = make_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    app.register_blueprint(boom)
    response = app.test_client().get("/boom", headers={"Accept-Language": "ru"})
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Что-то пошло не так" in text
    assert "secret internals" not in text and "Traceback" not in text


def test_domain_errors_get_their_status_and_message(make_app):
    app = make_app()
    app.register_blueprint(boom)
    response = app.test_client().get("/conflict")
    assert response.status_code == 409
    assert "Someone else changed this at the same time." in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused_with_an_explanation(make_app):
    app = make_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        username = factories.user("teacher").username
        db.session.commit()
    client = app.test_client()
    response = client.post(
        "/account/login", data={"username": username, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_form_with_csrf_token_works(make_app):
    import re

    app = make_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        username = factories.user("teacher").username
        db.session.commit()
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/account/login",
        data={"username": username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_wrong_method_is_a_405_page(client):
    assert client.get("/language").status_code == 405
