"""Permission checks: global and scoped grants, memberships, admins, disabled accounts."""

from __future__ import annotations

import pytest

from lms.accounts.permissions import can
from lms.accounts.roles import PARTICIPANT, STUDENT, TRAINER
from lms.cohorts.models import CLASS
from lms.extensions import db
from tests import factories


def test_admin_may_do_everything(app):
    admin = factories.user("admin")
    assert can(admin, "admin.users") and can(admin, "cohorts.manage", factories.cohort())


def test_global_grant_applies_everywhere(app):
    trainer = factories.user("trainer")
    assert can(trainer, "cohorts.manage", factories.cohort())
    assert not can(trainer, "admin.users")


def test_scoped_grant_applies_only_inside_its_scope(app):
    home, elsewhere = factories.madrasa(), factories.madrasa()
    teacher = factories.user("teacher", scope=home)
    assert can(teacher, "cohorts.manage", factories.cohort(CLASS, place=home))
    assert not can(teacher, "cohorts.manage", factories.cohort(CLASS, place=elsewhere))
    assert can(teacher, "cohorts.create")  # somewhere, for list and menu checks


def test_region_scope_covers_its_madrasas_and_cohorts(app):
    monitor = factories.user("monitor", scope=factories.region("osh-region"))
    in_osh = factories.madrasa(region_code="osh-region")
    in_naryn = factories.madrasa(region_code="naryn")
    assert can(monitor, "organisations.view", in_osh)
    assert not can(monitor, "organisations.view", in_naryn)
    assert can(monitor, "cohorts.view", factories.cohort(CLASS, place=in_osh))
    assert not can(monitor, "cohorts.view", factories.cohort(CLASS, place=in_naryn))


def test_membership_acts_as_a_grant_in_that_cohort(app):
    mine, theirs = factories.cohort(), factories.cohort()
    trainer, learner = factories.user(), factories.user()
    factories.member(mine, trainer, TRAINER)
    factories.member(mine, learner, PARTICIPANT)
    assert can(trainer, "cohorts.manage", mine) and not can(trainer, "cohorts.manage", theirs)
    assert can(learner, "cohorts.view", mine) and not can(learner, "cohorts.manage", mine)
    assert not can(learner, "cohorts.view", theirs)


def test_students_of_a_class_cannot_manage_it(app):
    group = factories.cohort(CLASS)
    student = factories.user()
    factories.member(group, student, STUDENT)
    assert can(student, "cohorts.view", group) and not can(student, "cohorts.manage", group)


def test_disabled_and_anonymous_users_may_do_nothing(app):
    disabled = factories.user("admin", active=False)
    assert not can(disabled, "admin.users")
    assert not can(None, "admin.users")


def test_unknown_permission_is_a_programming_error(app):
    with pytest.raises(KeyError):
        can(factories.user("admin"), "no.such.permission")


def test_routes_answer_403_for_the_wrong_role(app, client):
    student = factories.user("student")
    db.session.commit()
    factories.login(client, student)
    for path in (
        "/admin/users",
        "/curriculum/",
        "/quizzes/",
        "/certificates/designs/",
        "/certificates/register",
        "/lessons/",
    ):
        assert client.get(path).status_code == 403, path
