"""Certificate designs: registered through the plugin's own hook, previewed as real PDFs."""

from __future__ import annotations

import pytest

from certificates.designs import CertificateTemplate
from certificates.render import html_to_pdf
from lms import hookimpl
from lms.extensions import db
from lms.plugins import PluginError
from tests import factories


def _admin_client(client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)


@pytest.mark.slow
def test_preview_renders_a_pdf_in_each_language(app, client):
    _admin_client(client)
    page = client.get("/certificates/").get_data(as_text=True)
    assert "/certificates/designs/tot-completion/preview.pdf?lang=ky" in page
    for lang in ("en", "ru", "ky"):
        response = client.get(f"/certificates/designs/tot-completion/preview.pdf?lang={lang}")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
    assert client.get("/certificates/designs/nope/preview.pdf").status_code == 404
    assert client.get("/certificates/designs/tot-completion/preview.pdf?lang=xx").status_code == 404


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
                "graduate-ky", "Graduate", "graduate", "certificates/pdf/completion.html", ("ky",)
            )
        ]


class _ClashingDesign:
    PLUGIN_NAME = "clashing_design"

    @staticmethod
    @hookimpl
    def register_certificate_templates():
        return [CertificateTemplate("tot-completion", "Again", "tot-completion", "x.html")]


def test_another_package_adds_a_design(make_app):
    app = make_app(plugins=(_ExtraDesign,))
    with app.app_context():
        from certificates.designs import all_templates

        assert "graduate-ky" in all_templates()


def test_two_designs_with_one_id_are_refused(make_app):
    app = make_app(plugins=(_ClashingDesign,))
    with app.app_context(), pytest.raises(PluginError):
        from certificates.designs import all_templates

        all_templates()
