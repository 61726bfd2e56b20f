"""Migrations build the schema from empty, match the models, and go down again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select

from lms.extensions import db
from lms.organisations.models import Region


def test_upgraded_database_matches_the_models(app):
    """The test database was made by running every migration; the models must agree."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_regions_of_kyrgyzstan_are_seeded(app):
    assert db.session.scalar(select(func.count(Region.id))) == 9
    codes = set(db.session.scalars(select(Region.code)))
    assert {"bishkek", "osh-city", "osh-region", "batken", "naryn"} <= codes


def test_downgrade_to_empty_and_upgrade_again(app):
    db.session.remove()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert "lms_user" in inspect(db.engine).get_table_names()
    assert db.session.scalar(select(func.count(Region.id))) == 9
