"""Certificate designs: registered through the plugin's own hook, previewed as real PDFs."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from certificates.designs import BUILTIN_DESIGNS, CertificateTemplate
from lms import hookimpl
from lms.extensions import db
from lms.pdf import html_to_pdf
from lms.plugins import PluginError
from tests import factories


def _login(client, role=None):
    person = factories.user(role)
    db.session.commit()
    factories.login(client, person)


def test_the_gallery_lists_every_design_with_a_preview_per_language(app, client):
    _login(client, "admin")
    response = client.get("/certificates/designs/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for design in BUILTIN_DESIGNS:
        for lang in design.languages:
            assert f"/certificates/designs/{design.id}/preview.pdf?lang={lang}" in page
    assert "/certificates/designs/tot-completion-ky-ru/preview.pdf?lang=ru" not in page


@pytest.mark.slow
@pytest.mark.parametrize(
    ("design_id", "lang"),
    [
        ("tot-completion", "en"),
        ("course-completion", "ru"),
        ("graduate", "ky"),
        ("tot-completion-ky-ru", "ky"),
    ],
)
def test_an_admin_previews_a_design_as_a_one_page_sample(app, client, design_id, lang):
    _login(client, "admin")
    response = client.get(f"/certificates/designs/{design_id}/preview.pdf?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "OSH-2026-000123" in text
    if lang == "en":
        assert "SAMPLE" in text


@pytest.mark.parametrize(
    "url",
    [
        "/certificates/designs/nope/preview.pdf?lang=en",
        "/certificates/designs/tot-completion/preview.pdf?lang=xx",
        "/certificates/designs/tot-completion-ky-ru/preview.pdf?lang=ru",
    ],
)
def test_an_unknown_design_or_language_is_not_found(app, client, url):
    _login(client, "admin")
    assert client.get(url).status_code == 404


def test_only_those_allowed_see_the_designs(app, client):
    url = "/certificates/designs/tot-completion/preview.pdf?lang=en"
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "/account/login" in anonymous.headers["Location"]
    _login(client, "trainer")
    assert client.get(url).status_code == 403
    assert client.get("/certificates/designs/").status_code == 403


def test_renderer_never_reads_local_files(tmp_path):
    """A file: URL in a design (or smuggled in a name) is not fetched."""
    from weasyprint import HTML

    image = tmp_path / "circles.svg"
    image.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
        + "".join(f'<circle cx="{i}" cy="{i}" r="{i}"/>' for i in range(200))
        + "</svg>"
    )
    html = f'<p>Кыргызча</p><img src="file://{image}">'
    plain = html_to_pdf("<p>Кыргызча</p>")
    unrestricted = HTML(string=html).write_pdf()
    restricted = html_to_pdf(html)
    assert len(unrestricted) > len(plain) + 1000  # the file would have been embedded…
    assert abs(len(restricted) - len(plain)) < 200  # …but the renderer did not read it


class _ExtraDesign:
    PLUGIN_NAME = "extra_design"

    @staticmethod
    @hookimpl
    def register_certificate_templates():
        return [
            CertificateTemplate(
                "graduate-ky",
                "Graduate",
                "graduate",
                "certificates/pdf/graduate.html",
                ("ky",),
                stylesheet="certificates/pdf/certificate.css",
            )
        ]


class _ClashingDesign:
    PLUGIN_NAME = "clashing_design"

    @staticmethod
    @hookimpl
    def register_certificate_templates():
        return [CertificateTemplate("tot-completion", "Again", "tot-completion", "x.html")]


class _UnknownKind:
    PLUGIN_NAME = "unknown_kind"

    @staticmethod
    @hookimpl
    def register_certificate_templates():
        return [CertificateTemplate("diploma", "Diploma", "diploma", "x.html")]


@pytest.mark.slow
def test_another_package_adds_a_design_that_previews(make_app):
    app = make_app(plugins=(_ExtraDesign,))
    with app.app_context():
        from certificates.designs import all_templates

        designs = all_templates()
        assert "graduate-ky" in designs
        assert set(BUILTIN_DESIGNS) <= set(designs.values())
        _login(client := app.test_client(), "admin")
    response = client.get("/certificates/designs/graduate-ky/preview.pdf?lang=ky")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


@pytest.mark.parametrize("plugin", [_ClashingDesign, _UnknownKind])
def test_a_clashing_id_or_an_unknown_kind_is_refused(make_app, plugin):
    app = make_app(plugins=(plugin,))
    with app.app_context(), pytest.raises(PluginError):
        from certificates.designs import all_templates

        all_templates()
