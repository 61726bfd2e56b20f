"""Importing module files and exporting them again, losslessly; bad files change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from curriculum import io
from curriculum.models import Module, ModuleVersion
from curriculum.services import create_manual
from lms.extensions import db

SAMPLE = Path(__file__).resolve().parents[2] / "curriculum" / "sample"


def _manuals():
    create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    create_manual(slug="civic-education", title_en="Civic Education", actor_id=None)
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_sample_content_imports_with_translations_linked(app):
    _manuals()
    report = io.import_files(io.read_folder(SAMPLE), actor_id=None)
    db.session.commit()
    assert len(report.created) == 20 and report.unchanged == []
    assert _count(Module) == 12
    translations = db.session.scalars(
        select(ModuleVersion).where(ModuleVersion.translates_id.is_not(None))
    ).all()
    assert len(translations) == 8
    assert all(t.translates.language == "en" for t in translations)
    assert all(t.translates.module_id == t.module_id for t in translations)


def test_export_reproduces_the_files_byte_for_byte(app, tmp_path):
    _manuals()
    io.import_files(io.read_folder(SAMPLE), actor_id=None)
    db.session.commit()
    from curriculum.services import get_manual

    out = tmp_path / "out"
    for slug in ("health-basics", "civic-education"):
        io.export_manual(get_manual(slug), out / slug)
    originals = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*.md"))
    exported = sorted(p.relative_to(out) for p in out.rglob("*.md"))
    assert exported == originals
    for relative in originals:
        original = (SAMPLE / relative).read_text(encoding="utf-8")
        again = (out / relative).read_text(encoding="utf-8")
        # export adds the exact source hash to translations; everything else is identical
        again = "\n".join(line for line in again.split("\n") if not line.startswith("source_hash:"))
        assert again == original, relative


def test_reimporting_an_export_changes_nothing(app, tmp_path):
    _manuals()
    io.import_files(io.read_folder(SAMPLE), actor_id=None)
    db.session.commit()
    from curriculum.services import get_manual

    for slug in ("health-basics", "civic-education"):
        io.export_manual(get_manual(slug), tmp_path / slug)
    before = _count(ModuleVersion)
    report = io.import_files(io.read_folder(tmp_path), actor_id=None)
    assert report.created == [] and len(report.unchanged) == 20
    assert _count(ModuleVersion) == before


def test_a_changed_file_makes_a_new_draft(app, tmp_path):
    _manuals()
    shutil.copytree(SAMPLE / "health-basics", tmp_path / "hb")
    io.import_files(io.read_folder(tmp_path), actor_id=None)
    db.session.commit()
    target = tmp_path / "hb" / "en" / "02-healthy-eating.md"
    target.write_text(target.read_text().replace("iodised salt", "iodised salt (always)", 1))
    report = io.import_files(io.read_folder(tmp_path), actor_id=None)
    assert [(v.module.slug, v.number) for v in report.created] == [("healthy-eating", 2)]
    assert report.created[0].based_on.number == 1


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda t: t.replace("duration_minutes: ", "duration_minutes: x", 1), "duration_minutes"),
        (lambda t: t.replace("---\n", "", 1), "must start with a front-matter block"),
        (lambda t: t + "\n<script>alert(1)</script>\n", "Raw HTML is not allowed"),
        (lambda t: t.replace("language: en", "language: de", 1), "language must be en, ru or ky"),
        (lambda t: t.replace("manual: health-basics", "manual: no-such-manual", 1), "no manual"),
    ],
)
def test_a_bad_file_is_reported_with_file_line_and_reason_and_nothing_changes(
    app, tmp_path, damage, expected
):
    _manuals()
    shutil.copytree(SAMPLE / "health-basics" / "en", tmp_path / "en")
    victim = tmp_path / "en" / "03-immunisation.md"
    victim.write_text(damage(victim.read_text()))
    with pytest.raises(io.ImportFailed) as failure:
        io.import_files(io.read_folder(tmp_path), actor_id=None)
    db.session.rollback()
    messages = [str(p) for p in failure.value.problems]
    assert any("03-immunisation.md" in m and expected in m for m in messages), messages
    assert _count(ModuleVersion) == 0 and _count(Module) == 0


def test_duplicate_ids_and_non_utf8_are_reported(app, tmp_path):
    _manuals()
    (tmp_path / "a.md").write_bytes("---\nmanual: x\n".encode("utf-16"))
    source = (SAMPLE / "health-basics" / "en" / "01-hand-hygiene.md").read_text()
    first_id = source.split("{#", 2)[1].split("}", 1)[0]
    second_id = source.split("{#", 3)[2].split("}", 1)[0]
    (tmp_path / "b.md").write_text(source.replace(second_id, first_id, 1))
    with pytest.raises(io.ImportFailed) as failure:
        io.import_files(io.read_folder(tmp_path), actor_id=None)
    messages = "\n".join(str(p) for p in failure.value.problems)
    assert "a.md" in messages and "not UTF-8" in messages
    assert "b.md:" in messages and "used twice" in messages


def test_cli_import_prints_problems_and_imports_nothing(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        _manuals()
    (tmp_path / "bad.md").write_text("no front matter here\n")
    result = app.test_cli_runner().invoke(args=["curriculum", "import", str(tmp_path)])
    assert result.exit_code != 0
    assert "bad.md:1" in result.output and "nothing was imported" in result.output
    good = app.test_cli_runner().invoke(
        args=["curriculum", "import", str(SAMPLE / "civic-education"), "--submit"]
    )
    assert good.exit_code == 0, good.output
    assert "10 new version(s)" in good.output
    out = tmp_path / "export"
    exported = app.test_cli_runner().invoke(
        args=["curriculum", "export", "civic-education", str(out)]
    )
    assert "10 file(s) written." in exported.output
