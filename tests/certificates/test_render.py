"""Certificate PDFs: every built-in design in each of its languages, read back with pypdf.

Rendering is the slow part, so each design and language is rendered once per module (on a
module-scoped app that needs no database) and the bytes are shared by the assertions.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from jinja2 import ChoiceLoader, DictLoader
from PIL import Image
from pypdf import PdfReader

from certificates.designs import BUILTIN_DESIGNS, CertificateTemplate
from certificates.printed import PrintedCertificate, Signatory
from certificates.qr import make_qr, qr_data_uri
from certificates.render import (
    certificate_html,
    date_range,
    design_stylesheets,
    render_certificate,
    size_class,
    text_direction,
)
from lms import create_app
from lms.pdf import html_to_pdf

KYRGYZ_NAME = "Мөңкүбек Үсөнов"
ARABIC_NAME = "محمد عبد الرحمن"
#: 120 characters, in words, as a long name with patronymic and titles might be.
LONG_NAME = ("Мөңкүбек Үсөнов Абдыкадыр уулу " * 4)[:120]
CREDENTIAL = b'{"type": ["VerifiableCredential"], "proof": "\x00\xffbytes as given"}'
DESIGNS = {design.id: design for design in BUILTIN_DESIGNS}
A4_LANDSCAPE = (841.89, 595.28)

pytestmark = pytest.mark.slow


def _printed(language: str, **changes: Any) -> PrintedCertificate:
    """A real-looking (not sample) certificate with Kyrgyz letters in the name."""
    sample = PrintedCertificate.sample_data(language)
    issuer = {"en": "Madrasa Education Centre", "ru": "Центр обучения", "ky": "Окуу борбору"}
    values = {"recipient_name": KYRGYZ_NAME, "issuer_name": issuer, "sample": False, **changes}
    return dataclasses.replace(sample, **values)


def _payload(printed: PrintedCertificate) -> str:
    """A payload as long as a real one: the verification URL, ``#`` and a signed token."""
    return printed.verification_url + "#" + "eyJhbGciOiJFZERTQSJ9." + "Q" * 320


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def _squeezed(text: str) -> str:
    """Text without any whitespace, so words wrapped onto two lines still match."""
    return re.sub(r"\s+", "", text)


def _fonts(pdf: bytes) -> set[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return {str(fonts[key].get_object()["/BaseFont"]) for key in fonts}


@pytest.fixture(scope="module")
def render_app() -> Iterator[Flask]:
    """An app for rendering only: certificates need templates and locales, not a database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32})
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def rendered(render_app: Flask) -> dict[tuple[str, str], tuple[PrintedCertificate, bytes]]:
    """Every built-in design in each of its languages, rendered once for the module."""
    results = {}
    for design in BUILTIN_DESIGNS:
        for language in design.languages:
            printed = _printed(language)
            pdf = render_certificate(
                printed,
                design,
                qr_payload=_payload(printed),
                attachments={"credential.json": CREDENTIAL, "notes.txt": b"second file"},
            )
            results[design.id, language] = printed, pdf
    return results


CASES = [(design.id, language) for design in BUILTIN_DESIGNS for language in design.languages]


def test_the_builtin_designs_cover_every_kind_and_language():
    assert {design.kind for design in BUILTIN_DESIGNS} == {
        "tot-completion",
        "course-completion",
        "graduate",
    }
    for design_id in ("tot-completion", "course-completion", "graduate"):
        assert DESIGNS[design_id].languages == ("en", "ru", "ky")
    bilingual = DESIGNS["tot-completion-ky-ru"]
    assert (bilingual.kind, bilingual.languages, bilingual.second_language) == (
        "tot-completion",
        ("ky",),
        "ru",
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(case) for case in CASES])
def test_each_design_is_one_a4_landscape_page_with_everything_printed(render_app, rendered, case):
    printed, pdf = rendered[case]
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE, abs=0.5)
    text = reader.pages[0].extract_text()
    squeezed = _squeezed(text)
    assert KYRGYZ_NAME in text
    assert printed.serial in text
    assert _squeezed(printed.short_url) in squeezed
    assert _squeezed(printed.text("description")) in squeezed
    assert _squeezed(printed.text("achievement")) in squeezed
    assert printed.signatories[0].name in text
    with force_locale(printed.language):
        assert gettext("SAMPLE") not in text  # a real certificate carries no sample mark
    assert reader.metadata.title == f"{printed.serial} — {KYRGYZ_NAME}"
    assert reader.trailer["/Root"]["/Lang"] == printed.language


def test_kyrgyz_letters_come_out_as_text(rendered):
    _, pdf = rendered["tot-completion", "ky"]
    text = _text(pdf)
    for letter in "ңөү":
        assert letter in text
    assert "өттү" in text  # from the Kyrgyz description, not only the name
    assert any("Noto-Serif" in font for font in _fonts(pdf))


def test_dates_are_written_in_the_certificates_language(rendered):
    assert "September 14" in _text(rendered["graduate", "en"][1])
    assert "14—16 сентября 2026" in _text(rendered["graduate", "ru"][1])
    assert "сентябрь 2026-ж." in _text(rendered["graduate", "ky"][1])


def test_the_bilingual_design_prints_kyrgyz_then_russian(rendered):
    printed, pdf = rendered["tot-completion-ky-ru", "ky"]
    squeezed = _squeezed(_text(pdf))
    kyrgyz = _squeezed(printed.text("description", "ky"))
    russian = _squeezed(printed.text("description", "ru"))
    assert kyrgyz in squeezed and russian in squeezed
    assert squeezed.index(kyrgyz) < squeezed.index(russian)
    assert _squeezed(printed.text("place", "ru")) in squeezed
    assert "сентября2026" in squeezed and "сентябрь2026-ж." in squeezed


def test_the_signed_credential_is_attached_byte_for_byte(rendered):
    _, pdf = rendered["course-completion", "ru"]
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert attachments["credential.json"] == [CREDENTIAL]
    assert attachments["notes.txt"] == [b"second file"]


def test_the_qr_code_is_the_payloads_symbol(rendered):
    """No QR decoder is installed: the image in the PDF must be segno's symbol, module by
    module, and segno's symbol must hold exactly the payload at error level M."""
    printed, pdf = rendered["tot-completion", "en"]
    qr = make_qr(_payload(printed))
    assert qr.error == "M"
    assert qr.designator.endswith("-M")
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    assert _modules(images[0].image) == _symbol(_payload(printed))


def test_qr_data_uri_encodes_the_payload_one_pixel_per_module():
    payload = "https://lms.example/verify/abc#" + "t" * 370
    uri = qr_data_uri(payload)
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert _modules(image) == _symbol(payload)
    assert _symbol(payload) != _symbol(payload + "x")


def _modules(image: Image.Image) -> list[list[bool]]:
    """The dark (True) and light modules of a one-pixel-per-module QR image."""
    gray = image.convert("L")
    width, height = gray.size
    return [[gray.getpixel((x, y)) < 128 for x in range(width)] for y in range(height)]


def _symbol(payload: str) -> list[list[bool]]:
    """segno's matrix for ``payload`` with the 4-module quiet zone the image carries."""
    matrix = make_qr(payload).matrix
    size = len(matrix) + 8
    rows = [[False] * size for _ in range(4)]
    rows += [[False] * 4 + [bool(m) for m in row] + [False] * 4 for row in matrix]
    return rows + [[False] * size for _ in range(4)]


@pytest.mark.parametrize("design", BUILTIN_DESIGNS, ids=lambda d: d.id)
def test_a_long_name_and_an_arabic_name_still_fit_one_page(render_app, design):
    language = design.languages[0]
    for name in (LONG_NAME, ARABIC_NAME + " " + LONG_NAME[:90]):
        printed = _printed(language, recipient_name=name)
        pdf = render_certificate(printed, design, qr_payload=_payload(printed))
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
        text = _text(pdf)  # an RTL paragraph puts its Cyrillic words first: compare words
        assert all(word in text for word in name.split())


def test_an_arabic_script_name_runs_right_to_left_in_the_arabic_font(render_app):
    printed = _printed("en", recipient_name=ARABIC_NAME)
    design = DESIGNS["graduate"]
    html = certificate_html(printed, design, qr_payload="x")
    assert f'dir="rtl">{ARABIC_NAME}<' in html
    pdf = render_certificate(printed, design, qr_payload="x")
    assert any("Noto-Naskh-Arabic" in font for font in _fonts(pdf))
    assert ARABIC_NAME in _text(pdf)


def test_a_sample_says_so(render_app):
    sample = PrintedCertificate.sample_data("en")
    pdf = render_certificate(sample, DESIGNS["tot-completion"], qr_payload="x")
    assert "SAMPLE" in _text(pdf)


def test_rendering_twice_gives_the_same_bytes(rendered, render_app):
    printed, pdf = rendered["course-completion", "ru"]
    again = render_certificate(
        printed,
        DESIGNS["course-completion"],
        qr_payload=_payload(printed),
        attachments={"credential.json": CREDENTIAL, "notes.txt": b"second file"},
    )
    assert again == pdf
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info["/CreationDate"].startswith("D:20260916")


def test_the_stylesheet_is_parsed_once_and_the_html_has_no_style_block(render_app):
    design = DESIGNS["graduate"]
    assert design_stylesheets(design)[0] is design_stylesheets(design)[0]
    html = certificate_html(_printed("en"), design, qr_payload="x")
    assert "<style" not in html
    assert 'class="name fit-0" dir="auto"' in html


def test_a_design_refuses_a_language_it_was_not_made_for(render_app):
    with pytest.raises(ValueError, match="no 'en' version"):
        certificate_html(_printed("en"), DESIGNS["tot-completion-ky-ru"], qr_payload="x")


def test_in_language_renders_a_block_in_another_locale(render_app):
    template = render_app.jinja_env.from_string(
        '{{ long_date(day) }}|{% call in_language("ru") %}{{ long_date(day) }}'
        "·{{ get_locale() }}{% endcall %}|{{ long_date(day) }}·{{ get_locale() }}"
    )
    from certificates.render import TEMPLATE_HELPERS

    with force_locale("ky"):
        out = template.render(day=date(2026, 9, 16), **TEMPLATE_HELPERS)
    ky, ru, ky_again = out.split("|")
    assert ru == "16 сентября 2026\u202fг.·ru"
    assert ky_again == f"{ky}·ky"  # the locale is back after the block
    assert "сентябрь" in ky


def test_text_direction_and_size_classes():
    assert text_direction(ARABIC_NAME) == "rtl"
    assert text_direction("  «" + ARABIC_NAME) == "rtl"
    assert text_direction(KYRGYZ_NAME) == "auto"
    assert text_direction("Aigul محمد") == "auto"
    assert size_class("x" * 28, 28, 45) == "fit-0"
    assert size_class("x" * 29, 28, 45) == "fit-1"
    assert size_class("x" * 46, 28, 45) == "fit-2"


def test_date_ranges_are_shortened_per_locale(render_app):
    start, end = date(2026, 9, 14), date(2026, 10, 2)
    with force_locale("en"):
        assert date_range(start, end).replace("\u2009", " ") == "September 14 – October 2, 2026"
        assert date_range(None, end) == "October 2, 2026"
        assert date_range(None, None) == ""
    with force_locale("ru"):
        assert date_range(start, date(2026, 9, 16)) == "14—16 сентября 2026\u202fг."


# -- the URL fetcher ------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = b"body{color:red}" if self.path.endswith(".css") else b"\x89PNG"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every request it gets."""
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def _hostile_html(base: str) -> str:
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{base}/link.css">
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="{base}/attached.txt">
<style>
@import url("{base}/import.css");
@font-face {{ font-family: Remote; src: url("{base}/font.woff"); }}
body {{ background: url("{base}/background.png"); font-family: Remote; }}
p {{ background-image: url(file:///etc/passwd); }}
</style></head><body>
<p>Кыргызча</p>
<img src="{base}/img.png"><img src="file:///etc/passwd">
<object data="{base}/object.svg"></object><embed src="{base}/embed.svg">
<iframe src="{base}/frame.html"></iframe>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">
<image href="{base}/svg.png" width="10" height="10"/></svg>
</body></html>"""


def test_the_fetcher_itself_refuses_files_and_the_network(http_server):
    from weasyprint import HTML

    base, requests = http_server
    html = _hostile_html(base)
    HTML(string=html).write_pdf()  # the unrestricted default fetcher …
    assert requests, "the test server should have been reached without the restriction"
    requests.clear()

    pdf = html_to_pdf(html)  # … and the locked-down one
    assert requests == []
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert not reader.pages[0].images
    assert "root:" not in reader.pages[0].extract_text()


def test_a_certificate_never_fetches_anything(http_server):
    """Hostile markup in a design, its stylesheet and a recipient's name reaches nothing."""
    base, requests = http_server
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32})
    hostile_css = (
        f'@import url("{base}/import.css");\n'
        f'@font-face {{ font-family: Remote; src: url("{base}/font.woff"); }}\n'
        f'body {{ background: url("{base}/bg.png"); font-family: Remote, "Noto Sans"; }}\n'
        "p { background-image: url(file:///etc/passwd); }\n"
    )
    hostile_template = (
        '{% extends "certificates/pdf/tot_completion.html" %}'
        '{% block subtitle %}<img src="' + base + '/subtitle.png">'
        '<img src="file:///etc/passwd">'
        '<link rel="stylesheet" href="' + base + '/link.css">{% endblock %}'
    )
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"hostile.html": hostile_template, "hostile.css": hostile_css}),
            app.jinja_env.loader,
        ]
    )
    design = CertificateTemplate(
        "hostile", "Hostile", "tot-completion", "hostile.html", stylesheet="hostile.css"
    )
    name = f'<img src="{base}/name.png"><link rel=stylesheet href="file:///etc/passwd">'
    printed = _printed(
        "en",
        recipient_name=name,
        signatories=(Signatory(f'<img src="{base}/signer.png">', {"en": "Trainer"}),),
    )
    with app.app_context():
        pdf = render_certificate(printed, design, qr_payload=f"{base}/qr")
    assert requests == []
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert _squeezed(name) in _squeezed(text)  # printed as text, never read as markup
    assert "root:" not in text
    assert len(reader.pages[0].images) == 1  # the QR code only
    assert not reader.attachments
