"""The certificates indicator counts what happened in the period, by sex and region."""

from __future__ import annotations

from datetime import datetime

from certificates import issuance
from certificates.indicators import INDICATOR_ID
from lms.extensions import db
from tests import factories
from tests.certificates import helpers
from tests.reports import by_label, cells, drill, sexes, tables


def _world():
    """Osh: three certificates (two women, one man); one revoked, one reissued. Chuy: one."""
    admin = factories.user("admin")
    osh, _osh_people, _ = helpers.completed_cohort(["Aida", "Bermet", "Chyngyz"])
    for person, sex in zip(_osh_people, ("female", "female", "male"), strict=True):
        person.sex = sex
    chuy, (dana,), _ = helpers.completed_cohort(["Dana"], region=factories.region("chuy"))
    dana.sex = "female"
    db.session.flush()
    made = {c.name_as_printed: c for c in helpers.issue(osh, admin) + helpers.issue(chuy, admin)}
    issuance.revoke(made["Bermet"], reason="Issued by mistake", actor=admin)
    issuance.reissue(made["Chyngyz"], name="Chyngyz Asanov", reason="Surname", actor=admin)
    db.session.commit()
    return admin, osh, chuy, made


def test_issued_revoked_and_replaced_are_counted_by_sex_and_region(app):
    admin, osh, _chuy, _made = _world()
    found = tables(INDICATOR_ID, admin, year=2026)
    regions = by_label(found["by_region"])
    osh_row, chuy_row, total = regions["Osh Region"], regions["Chuy Region"], regions["Total"]
    # Issued: Aida, Bermet, Chyngyz and his corrected certificate in Osh; Dana in Chuy.
    assert sexes(osh_row, "issued_") == (2, 2, 4)
    assert sexes(chuy_row, "issued_") == (1, 0, 1)
    assert osh_row["revoked_total"] == 1 and osh_row["replaced_total"] == 1
    assert sexes(total, "issued_") == (3, 2, 5)
    assert by_label(found["by_cohort"])[osh.name]["issued_total"] == 4
    # Another year: nothing happened then.
    assert sexes(
        by_label(tables(INDICATOR_ID, admin, year=2025)["by_region"])["Total"], "issued_"
    ) == (0, 0, 0)


def test_each_figure_lists_the_certificates_behind_it(app):
    admin, osh, _chuy, made = _world()
    revoked = drill(
        INDICATOR_ID, "by_region", f"region:{osh.region_id},event:revoked", admin, year=2026
    )
    assert cells(revoked, 0) == [made["Bermet"].serial]
    women = drill(
        INDICATOR_ID, "by_cohort", f"cohort:{osh.id},event:issued,sex:female", admin, year=2026
    )
    assert sorted(cells(women, 1)) == ["Aida", "Bermet"]


def test_a_replacement_counts_in_the_period_it_was_issued(app):
    """The "replaced" figure follows the corrected certificate's date of issue, not the
    original's."""
    admin, osh, _chuy, made = _world()
    made["Chyngyz"].issued_at = datetime(2025, 6, 1, 12, 0)
    db.session.commit()
    last_year = by_label(tables(INDICATOR_ID, admin, year=2025)["by_region"])["Osh Region"]
    assert last_year["issued_total"] == 1 and last_year["replaced_total"] == 0
    this_year = by_label(tables(INDICATOR_ID, admin, year=2026)["by_region"])["Osh Region"]
    assert this_year["issued_total"] == 3 and this_year["replaced_total"] == 1
    key = f"region:{osh.region_id},event:replaced"
    assert cells(drill(INDICATOR_ID, "by_region", key, admin, year=2026), 0) == [
        made["Chyngyz"].serial
    ]
    assert drill(INDICATOR_ID, "by_region", key, admin, year=2025).total == 0


def test_an_officer_of_one_region_sees_only_its_certificates(app):
    _admin, _osh, _chuy, _made = _world()
    officer = factories.user("monitor", scope=factories.region("osh-region"))
    db.session.commit()
    regions = by_label(tables(INDICATOR_ID, officer, year=2026)["by_region"])
    assert "Chuy Region" not in regions
    assert regions["Total"]["issued_total"] == 4
