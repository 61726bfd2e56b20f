"""Plugins: discovery through entry points, disabling, and a third party using every hook."""

from __future__ import annotations

import sys
import textwrap

import pytest

from lms.accounts.roles import PARTICIPANT
from lms.extensions import db
from lms.plugins import BUILTIN_PLUGINS, NavItem, Permission, PluginError
from lms.progress import api as progress
from tests import factories
from tests.plugins import fake_plugin


def test_builtin_plugins_are_registered_and_mount_a_page(app):
    pm = app.extensions["lms"].pm
    for name in BUILTIN_PLUGINS:
        assert pm.get_plugin(name) is not None, name
        assert name in app.blueprints, name


def test_every_builtin_page_answers_a_user_allowed_to_see_it(app, client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    for path in ("/curriculum/", "/lessons/", "/quizzes/", "/certificates/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<h1>" in response.get_data(as_text=True)


def test_disabled_plugin_is_gone_from_pages_and_navigation(make_app):
    app = make_app({"DISABLED_PLUGINS": ["quizzes"]})
    assert "quizzes" not in app.blueprints
    assert app.extensions["lms"].pm.get_plugin("quizzes") is None
    ids = [item.id for item in app.extensions["lms"].registries.navigation]
    assert "quizzes" not in ids and "curriculum" in ids
    assert app.test_client().get("/quizzes/").status_code == 404


def test_disabling_through_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("LMS_DISABLED_PLUGINS", "lessons, certificates")
    app = make_app()
    assert "lessons" not in app.blueprints and "certificates" not in app.blueprints
    assert "curriculum" in app.blueprints


def test_third_party_plugin_adds_a_page_a_command_and_navigation(make_app):
    app = make_app(plugins=(fake_plugin,))
    with app.app_context():
        teacher = factories.user("teacher")
        student = factories.user("student")
        db.session.commit()
        client = app.test_client()
        assert client.get("/garden/").get_data(as_text=True) == "<h1>The school garden</h1>"

        factories.login(client, teacher)
        home = client.get("/").get_data(as_text=True)
        assert 'href="/garden/"' in home and "Tomatoes are ripe." in home

        other = app.test_client()
        factories.login(other, student)
        assert "Tomatoes" not in other.get("/").get_data(as_text=True)

    result = app.test_cli_runner().invoke(args=["garden-hello", "Aigul"])
    assert result.exit_code == 0
    assert "Hello from the garden, Aigul!" in result.output


def test_third_party_completion_rule_decides_completion(make_app):
    app = make_app(plugins=(fake_plugin,))
    with app.app_context():
        group = factories.cohort(completion_rule="garden.beds", completion_params={"beds": 2})
        keen, idle = factories.user(), factories.user()
        factories.member(group, keen, PARTICIPANT)
        factories.member(group, idle, PARTICIPANT)
        progress.record(
            user_id=keen.id,
            cohort_id=group.id,
            item_type="garden.bed",
            item_id=str(group.id),
            outcome="completed",
            score=2,
            source="garden",
        )
        progress.record(
            user_id=idle.id,
            cohort_id=group.id,
            item_type="garden.bed",
            item_id=str(group.id),
            outcome="completed",
            score=1,
            source="garden",
        )
        db.session.commit()
        results = progress.evaluate_completion(group)
        assert results[keen.id].completed and not results[idle.id].completed
        labels = [item.label for item in progress.progress_items(group)]
        assert "Planted a garden bed" in labels


def test_third_party_indicator_is_reported_downloaded_and_drilled(make_app):
    app = make_app(plugins=(fake_plugin,))
    with app.app_context():
        group = factories.cohort()
        keen = factories.user(name="Keen Gardener", sex="male")
        factories.member(group, keen, PARTICIPANT)
        progress.record(
            user_id=keen.id,
            cohort_id=group.id,
            item_type="garden.bed",
            item_id=str(group.id),
            outcome="completed",
            score=3,
            source="garden",
        )
        admin = factories.user("admin")
        db.session.commit()
        client = app.test_client()
        factories.login(client, admin)
        page = client.get("/reports/").get_data(as_text=True)
        assert "Garden beds planted" in page and "from the progress ledger" in page
        assert page.index("Field feedback received") < page.index("Garden beds planted")
        csv_file = client.get("/reports/garden.beds/beds.csv").data.decode("utf-8-sig")
        assert csv_file.splitlines() == ["Who,Female,Male,Total", "Everyone,0,1,1"]
        records = client.get("/reports/garden.beds/beds/sex:male")
        assert "Keen Gardener" in records.get_data(as_text=True)


def test_plugin_found_through_its_entry_point(make_app, tmp_path, monkeypatch):
    """An installed distribution declaring the entry point is loaded without being named."""
    package = tmp_path / "site"
    (package / "garden_ep").mkdir(parents=True)
    (package / "garden_ep" / "__init__.py").write_text(
        textwrap.dedent(
            """
            from flask import Blueprint
            from lms import hookimpl

            bp = Blueprint("garden_ep", __name__, url_prefix="/garden-ep")

            @bp.get("/")
            def index():
                return "found through the entry point"

            @hookimpl
            def register_blueprints(app):
                return [bp]
            """
        )
    )
    dist = package / "garden_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: garden-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[madrasa_lms.plugins]\ngarden_ep = garden_ep\n")
    monkeypatch.syspath_prepend(str(package))
    try:
        app = make_app()
        assert (
            app.test_client().get("/garden-ep/").get_data(as_text=True)
            == "found through the entry point"
        )
        assert "garden_ep" not in make_app({"LOAD_ENTRYPOINTS": False}).blueprints
        assert "garden_ep" not in make_app({"DISABLED_PLUGINS": ["garden_ep"]}).blueprints
    finally:
        sys.modules.pop("garden_ep", None)


class _Duplicate:
    """A plugin that tries to take an id a built-in already uses."""

    PLUGIN_NAME = "duplicate"

    @staticmethod
    @fake_plugin.hookimpl
    def register_permissions():
        return [Permission("curriculum.view", "again", frozenset())]


class _DuplicateIndicator:
    """A plugin that reuses the id of a host indicator."""

    PLUGIN_NAME = "duplicate_indicator"

    @staticmethod
    @fake_plugin.hookimpl
    def register_indicators():
        from lms.reports.indicators import Indicator

        return [Indicator("lms.students_reached", "Again", "Counted twice.", lambda f: [])]


class _UnknownPermission:
    PLUGIN_NAME = "unknown_permission"

    @staticmethod
    @fake_plugin.hookimpl
    def register_navigation():
        return [NavItem("nowhere", "Nowhere", "lms.home", "no.such.permission")]


@pytest.mark.parametrize("plugin", [_Duplicate, _DuplicateIndicator, _UnknownPermission])
def test_registries_refuse_duplicates_and_dangling_references(make_app, plugin):
    with pytest.raises(PluginError):
        make_app(plugins=(plugin,))


def test_unknown_hook_implementation_is_refused(make_app):
    class Typo:
        PLUGIN_NAME = "typo"

        @staticmethod
        @fake_plugin.hookimpl
        def register_blueprintz(app):
            return []

    from pluggy import PluginValidationError

    with pytest.raises(PluginValidationError):
        make_app(plugins=(Typo,))
