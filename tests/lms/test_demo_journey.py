"""Every demo log-in reaches a home page fitting its roles, in all three languages."""

from __future__ import annotations

import pytest

from lms.demo import DEMO_PASSWORD

#: user name → links their home page must offer, and links it must not.
EXPECTED = {
    "admin": ({"/admin/users", "/cohorts/", "/curriculum/", "/certificates/"}, set()),
    "editor": ({"/curriculum/", "/quizzes/"}, {"/admin/users", "/lessons/"}),
    "reviewer": ({"/curriculum/"}, {"/admin/users", "/quizzes/", "/lessons/"}),
    "trainer": ({"/cohorts/", "/lessons/", "/quizzes/"}, {"/admin/users"}),
    "teacher": ({"/cohorts/", "/lessons/", "/curriculum/"}, {"/admin/users"}),
    "student": ({"/cohorts/"}, {"/admin/users", "/curriculum/", "/lessons/", "/quizzes/"}),
    "monitor": ({"/madrasas/", "/cohorts/", "/curriculum/"}, {"/admin/users", "/lessons/"}),
}


@pytest.fixture
def demo_app(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_demo_user_lands_on_a_home_page_for_their_roles(demo_app, username):
    client = demo_app.test_client()
    response = client.post("/account/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    present, absent = EXPECTED[username]
    for language in ("en", "ru", "ky"):
        client.post("/language", data={"lang": language, "next": "/"})
        page = client.get("/")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert f'<html lang="{language}">' in text
        for link in present:
            assert f'href="{link}"' in text, (username, language, link)
            assert client.get(link).status_code == 200, (username, language, link)
        for link in absent:
            assert f'href="{link}"' not in text, (username, language, link)


def test_monitoring_officer_sees_figures_per_region(demo_app):
    client = demo_app.test_client()
    client.post("/account/login", data={"username": "monitor", "password": DEMO_PASSWORD})
    text = client.get("/").get_data(as_text=True)
    assert "Ошская область" in text  # the officer's own language
    client.post("/language", data={"lang": "en"})
    text = client.get("/").get_data(as_text=True)
    assert "Osh Region" in text and "Naryn Region" in text
    osh_row = text.split("Osh Region</a></th>")[1].split("</tr>")[0]
    assert "<td>2</td><td>2</td>" in osh_row.replace("\n", "").replace(" ", "")


def test_demo_cohorts_appear_on_their_members_home_pages(demo_app):
    client = demo_app.test_client()
    client.post("/account/login", data={"username": "teacher", "password": DEMO_PASSWORD})
    text = client.get("/").get_data(as_text=True)
    assert "Civic Education, group 1 (sample)" in text
    assert "ToT: Health Basics, Osh (sample)" in text
