"""The app factory: configuration from defaults, environment and arguments."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.config import ConfigError, normalise_database_url


def test_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"
    assert app.config["ENV"] == "development"


def test_development_secret_key_is_random_and_kept(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"]
    assert first == second != other and len(first) >= 32


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql://someone@db.example/lms")
    monkeypatch.setenv("LMS_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("LMS_USERS_PER_PAGE", "25")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/lms"
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["USERS_PER_PAGE"] == 25


def test_arguments_override_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_USERS_PER_PAGE", "25")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "USERS_PER_PAGE": 10})
    assert app.config["USERS_PER_PAGE"] == 10


def test_bad_environment_value_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_USERS_PER_PAGE", "many")
    with pytest.raises(ConfigError, match="LMS_USERS_PER_PAGE must be a whole number"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY must be set"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENV": "production"})
    with pytest.raises(ConfigError, match="too short"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": "secret"})
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": "k" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_health_check_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_static_stylesheet_is_small(client):
    response = client.get("/static/lms.css")
    assert response.status_code == 200
    assert len(response.data) < 15_000
