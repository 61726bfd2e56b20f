"""The app starts, serves its pages and lets a user log in and out."""

from __future__ import annotations

from tests import factories


def test_home_page_welcomes_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome to Madrasa LMS" in response.get_data(as_text=True)


def test_login_and_logout(app, client):
    person = factories.user("teacher")
    from lms.extensions import db

    db.session.commit()
    response = factories.login(client, person)
    assert response.status_code == 302
    home = client.get("/")
    assert f"Hello, {person.name}" in home.get_data(as_text=True)
    client.post("/account/logout")
    assert "Welcome to Madrasa LMS" in client.get("/").get_data(as_text=True)
