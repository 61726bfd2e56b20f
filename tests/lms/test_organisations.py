"""Regions and madrasas: who sees which, filtering, and adding or editing madrasas."""

from __future__ import annotations

from sqlalchemy import event, select

from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS, TOT
from lms.extensions import db
from lms.organisations import services
from lms.organisations.models import Madrasa
from tests import factories


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_regions_page_lists_the_nine_regions_with_counts(app, client):
    admin = factories.user("admin")
    first = factories.madrasa("Nur", region_code="chuy")
    factories.madrasa("Iman", region_code="chuy")
    factories.cohort(CLASS, place=first)
    factories.cohort(TOT, region=factories.region("chuy"))
    factories.cohort(TOT, region=factories.region("chuy"), archived=True)
    db.session.commit()

    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = services.region_overview(admin)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    by_code = {row.region.code: row for row in rows}
    assert len(rows) == 9
    assert (by_code["chuy"].madrasas, by_code["chuy"].cohorts) == (2, 2)  # archived not counted
    assert (by_code["naryn"].madrasas, by_code["naryn"].cohorts) == (0, 0)
    # The grants (two statements outside a request) plus one aggregate query.
    assert len([s for s in statements if "lms_region" in s]) == 1

    factories.login(client, admin)
    page = _text(client.get("/madrasas/regions"))
    assert "Chuy Region" in page and "Bishkek City" in page and "Osh City" in page


def test_madrasa_list_filters_by_region_and_counts_classes(app, client):
    officer = factories.user("monitor")
    nur = factories.madrasa("Nur Madrasa", region_code="chuy")
    factories.madrasa("Talas Madrasa", region_code="talas")
    factories.cohort(CLASS, place=nur)
    factories.cohort(CLASS, place=nur)
    db.session.commit()
    factories.login(client, officer)

    everything = _text(client.get("/madrasas/"))
    assert "Nur Madrasa" in everything and "Talas Madrasa" in everything

    chuy = factories.region("chuy")
    filtered = _text(client.get(f"/madrasas/?region={chuy.id}"))
    assert "Nur Madrasa" in filtered
    assert "Talas Madrasa" not in filtered
    assert "<td>2</td>" in filtered  # two classes


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/madrasas/", "/madrasas/regions", "/madrasas/1", "/madrasas/new"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


def test_teacher_sees_only_their_own_madrasa(app, client):
    mine = factories.madrasa("My Madrasa")
    other = factories.madrasa("Other Madrasa")
    teacher = factories.user("teacher", scope=mine, name="Aigul Teacher")
    group = factories.cohort(CLASS, place=mine, name="Grade five")
    db.session.commit()
    factories.login(client, teacher)

    listing = _text(client.get("/madrasas/"))
    assert "My Madrasa" in listing
    assert "Other Madrasa" not in listing

    page = client.get(f"/madrasas/{mine.id}")
    assert page.status_code == 200
    assert group.name in _text(page)
    assert "Aigul Teacher" in _text(page)
    assert client.get(f"/madrasas/{other.id}").status_code == 403
    assert client.get("/madrasas/new").status_code == 403
    assert client.get(f"/madrasas/{mine.id}/edit").status_code == 403


def test_region_scoped_monitor_sees_the_region_madrasas(app, client):
    in_region = factories.madrasa("Osh One", region_code="osh-region")
    elsewhere = factories.madrasa("Naryn One", region_code="naryn")
    officer = factories.user("monitor", scope=factories.region("osh-region"))
    db.session.commit()
    factories.login(client, officer)

    listing = _text(client.get("/madrasas/"))
    assert "Osh One" in listing and "Naryn One" not in listing
    assert client.get(f"/madrasas/{in_region.id}").status_code == 200
    assert client.get(f"/madrasas/{elsewhere.id}").status_code == 403
    counts = {row.region.code: row.madrasas for row in services.region_overview(officer)}
    assert counts["osh-region"] == 1 and counts["naryn"] == 0


def test_students_cannot_see_madrasas(app, client):
    student = factories.user("student")
    db.session.commit()
    factories.login(client, student)
    assert client.get("/madrasas/").status_code == 403


def test_admin_adds_a_madrasa_and_duplicates_are_a_field_error(app, client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    chuy = factories.region("chuy")
    data = {"name": "Madrasa Hidoyat", "region_id": chuy.id, "locality": "Tokmok", "address": ""}

    created = client.post("/madrasas/new", data=data)
    assert created.status_code == 302
    madrasa = db.session.scalar(select(Madrasa).where(Madrasa.name == "Madrasa Hidoyat"))
    assert madrasa is not None and madrasa.locality == "Tokmok"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "madrasa.create"))

    again = client.post("/madrasas/new", data={**data, "name": "madrasa  hidoyat"})
    assert again.status_code == 200
    assert "already exists in this region" in _text(again)
    assert 'aria-invalid="true"' in _text(again)

    talas = factories.region("talas")
    elsewhere = client.post("/madrasas/new", data={**data, "region_id": talas.id})
    assert elsewhere.status_code == 302


def test_missing_region_is_a_field_error(app, client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    response = client.post("/madrasas/new", data={"name": "No Region", "region_id": ""})
    assert response.status_code == 200
    assert db.session.scalar(select(Madrasa).where(Madrasa.name == "No Region")) is None


def test_admin_edits_a_madrasa(app, client):
    admin = factories.user("admin")
    taken = factories.madrasa("Taken Name", region_code="chuy")
    madrasa = factories.madrasa("Old Name", region_code="chuy")
    db.session.commit()
    factories.login(client, admin)
    url = f"/madrasas/{madrasa.id}/edit"

    form = client.get(url)
    assert form.status_code == 200 and "Old Name" in _text(form)

    clash = client.post(url, data={"name": taken.name, "region_id": taken.region_id})
    assert clash.status_code == 200
    assert "already exists in this region" in _text(clash)

    saved = client.post(
        url, data={"name": "New Name", "region_id": madrasa.region_id, "address": "Lenin 1"}
    )
    assert saved.status_code == 302
    db.session.refresh(madrasa)
    assert (madrasa.name, madrasa.address) == ("New Name", "Lenin 1")
