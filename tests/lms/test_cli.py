"""The `lms` command: init, demo, create-user, doctor, and the plugins' groups."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import User
from lms.cli import main
from lms.cohorts.models import Cohort
from lms.extensions import db


def test_init_creates_the_database_then_upgrades_in_place(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "lms.sqlite3").exists()
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0 and "The database is ready." in again.output


def test_demo_loads_once_and_prints_the_log_ins(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    for username in ("admin", "editor", "reviewer", "trainer", "teacher", "student", "monitor"):
        assert username in result.output
    with app.app_context():
        users = db.session.scalar(select(func.count(User.id)))
        # Two ToTs, this year's class and last year's (whose student holds a certificate).
        assert db.session.scalar(select(func.count(Cohort.id))) == 4
    again = runner.invoke(args=["demo"])
    assert "already there" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == users


def test_demo_is_refused_in_production(make_app):
    app = make_app({"ENV": "production"})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "refused in production" in result.output


def test_create_user_with_a_role(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--username",
            "Boss",
            "--name",
            "Aigul Sadykova",
            "--sex",
            "female",
            "--role",
            "admin",
            "--password",
            "a long password",
        ],
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        boss = db.session.scalar(select(User).where(User.username == "boss"))
        assert [g.role for g in boss.grants] == ["admin"]


def test_create_user_explains_bad_input_and_creates_nothing(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--username",
            "x",
            "--name",
            "",
            "--sex",
            "female",
            "--password",
            "short",
        ],
    )
    assert result.exit_code != 0
    assert "username" in result.output and "password" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_doctor_reports_each_check(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(args=["doctor"])
    for name in (
        "database",
        "migrations",
        "weasyprint",
        "fonts: Kyrgyz Cyrillic",
        "libharfbuzz-subset0",
        "public address",
    ):
        assert name in result.output
    assert result.exit_code == 0, result.output


def test_doctor_fails_in_production_without_a_public_address(make_app):
    app = make_app({"ENV": "production", "PUBLIC_URL": ""})
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert "[FAIL] public address: LMS_PUBLIC_URL is not set" in result.output
    assert "fix: set LMS_PUBLIC_URL" in result.output


def test_doctor_fails_on_an_empty_database_and_says_how_to_fix_it(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32})
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "fix: lms init" in result.output


def test_plugin_command_groups_are_mounted(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    manuals = runner.invoke(args=["curriculum", "manuals"])
    assert "health-basics" in manuals.output and "civic-education" in manuals.output
    assert "tot-completion" in runner.invoke(args=["certificates", "designs"]).output
    assert "Hand hygiene (sample)" in runner.invoke(args=["quizzes", "banks"]).output
    taught = runner.invoke(args=["lessons", "taught-by", "teacher"])
    assert "Civic Education, group 1 (sample)" in taught.output


def test_console_script_lists_core_and_plugin_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "demo", "serve", "create-user", "doctor", "curriculum", "quizzes"):
        assert command in result.output


def _exec_recorder(monkeypatch):
    """Stand-in for os.execv: records the command instead of becoming gunicorn."""
    calls = []
    monkeypatch.setattr("lms.cli.os.execv", lambda path, argv: calls.append((path, argv)))
    return calls


def test_serve_production_runs_gunicorn_with_the_settings_file(make_app, monkeypatch):
    calls = _exec_recorder(monkeypatch)
    app = make_app({"ENV": "production", "PUBLIC_URL": "https://lms.example.kg"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["serve", "--production", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    settings = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
    assert calls == [
        (
            sys.executable,
            [
                sys.executable,
                *("-m", "gunicorn", "--config", str(settings)),
                *("--bind", "0.0.0.0:8123", "lms.wsgi:app"),
            ],
        )
    ]
    assert "Warning" not in result.output

    calls.clear()
    result = runner.invoke(args=["serve", "--production", "--host", "::1"])
    assert calls[0][1][-2] == "[::1]:8000", "port 8000 by default; IPv6 in brackets"


def test_serve_production_explains_a_missing_settings_file(make_app, monkeypatch, tmp_path):
    calls = _exec_recorder(monkeypatch)
    runner = make_app().test_cli_runner()
    missing = tmp_path / "nowhere.conf.py"
    result = runner.invoke(args=["serve", "--production", "--config", str(missing)])
    assert result.exit_code != 0 and calls == []
    assert f"{missing} does not exist" in result.output

    chosen = tmp_path / "mine.conf.py"
    chosen.write_text("workers = 1\n")
    monkeypatch.setenv("LMS_GUNICORN_CONFIG", str(chosen))
    result = runner.invoke(args=["serve", "--production"])
    assert result.exit_code == 0, result.output
    assert calls[0][1][4] == str(chosen)
    assert "LMS_ENV is not 'production'" in result.output


def test_gunicorn_settings_file(monkeypatch):
    """The settings lms serve --production uses: preloaded, bounded, no personal data logged."""
    settings_file = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
    monkeypatch.setenv("LMS_WEB_WORKERS", "3")
    settings = runpy.run_path(str(settings_file))
    assert settings["workers"] == 3
    assert settings["preload_app"] is True and settings["timeout"] == 60
    assert settings["max_requests"] > 0 and settings["max_requests_jitter"] > 0
    assert settings["control_socket_disable"] is True
    log_format = settings["access_log_format"]
    for personal in ("%(r)s", "%(q)s", "%(h)s", "%(a)s", "%(f)s", "%(u)s"):
        assert personal not in log_format
    assert "%(U)s" in log_format

    monkeypatch.delenv("LMS_WEB_WORKERS")
    assert 3 <= runpy.run_path(str(settings_file))["workers"] <= 8
    monkeypatch.setenv("LMS_WEB_WORKERS", "many")
    with pytest.raises(SystemExit, match="LMS_WEB_WORKERS must be a whole number"):
        runpy.run_path(str(settings_file))
