"""Certificate rendering benchmark, run by hand (never as a timed test).

    .venv/bin/python benchmarks/certificates_render.py [--count N] [--design ID] [--lang L]
    .venv/bin/python benchmarks/certificates_render.py --memory [--renders 1000]

Speed: in one process, renders the same certificate page N times with a bare
``weasyprint.HTML(string=html).write_pdf()`` (the final HTML of the design with its CSS
inlined in a ``<style>`` block, the same system fonts) and N times with
``certificates.render.render_certificate`` (which also renders the Jinja template, makes
the QR code and attaches a credential), interleaved after a warm-up, and prints the
median and mean time per render and the ratio. Target: ``render_certificate`` at most 1.3
times the bare render. A third column, bare with the process's shared FontConfiguration,
shows how much of the difference is fonts rather than CSS parsing.

Memory (``--memory``): renders ``--renders`` certificates (a different name each) and
prints the resident set size every 100 renders; it should stay flat after the first ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable

from jinja2 import Environment
from weasyprint import HTML

from certificates.designs import BUILTIN_DESIGNS, CertificateTemplate
from certificates.printed import PrintedCertificate
from certificates.render import certificate_html, render_certificate
from lms import create_app
from lms.pdf import font_configuration

#: About the size of a real QR payload: the verification URL, "#", a signed token.
TOKEN = "#t=eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0." + "Q" * 300 + "." + "S" * 86
#: About the size of a signed credential attached to the PDF.
CREDENTIAL = b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "proof": "' + b"x" * 1800


def rss_kib() -> int:
    """The current resident set size in KiB (Linux), else the peak from getrusage."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def inline_html(html: str, design: CertificateTemplate, env: Environment) -> str:
    """The design's final HTML with its stylesheet inlined, as a bare render would get it."""
    css = ""
    if design.stylesheet:
        assert env.loader is not None
        css, _, _ = env.loader.get_source(env, design.stylesheet)
    return html.replace("</head>", f"<style>\n{css}\n</style>\n</head>", 1)


def speed(design: CertificateTemplate, language: str, count: int, env: Environment) -> None:
    printed = dataclasses.replace(PrintedCertificate.sample_data(language), sample=False)
    payload = printed.verification_url + TOKEN
    attachments = {"credential.json": CREDENTIAL}
    bare_html = inline_html(certificate_html(printed, design, qr_payload=payload), design, env)

    def ours() -> bytes:
        return render_certificate(printed, design, qr_payload=payload, attachments=attachments)

    def bare() -> bytes:
        return HTML(string=bare_html).write_pdf()

    def bare_shared_fonts() -> bytes:
        return HTML(string=bare_html).write_pdf(font_config=font_configuration())

    runs: dict[str, list[float]] = {"bare": [], "bare+fonts": [], "render_certificate": []}
    functions = {"bare": bare, "bare+fonts": bare_shared_fonts, "render_certificate": ours}
    for function in functions.values():  # warm-up: first fonts, parsed CSS, imports
        for _ in range(3):
            function()
    for _ in range(count):
        for name, function in functions.items():
            runs[name].append(timed(function))

    print(f"design {design.id} ({language}), {count} renders each, interleaved after warm-up")
    print(f"{'':<20}{'median ms':>10}{'mean ms':>10}{'min ms':>10}")
    for name, times in runs.items():
        print(
            f"{name:<20}{statistics.median(times):>10.1f}"
            f"{statistics.fmean(times):>10.1f}{min(times):>10.1f}"
        )
    ratio = statistics.median(runs["render_certificate"]) / statistics.median(runs["bare"])
    mean_ratio = statistics.fmean(runs["render_certificate"]) / statistics.fmean(runs["bare"])
    verdict = "OK" if ratio <= 1.3 else "MISSED"
    print(f"ratio render_certificate / bare: median {ratio:.2f}, mean {mean_ratio:.2f}")
    print(f"target <= 1.30: {verdict}")


def memory(renders: int) -> None:
    designs = [(design, design.languages[0]) for design in BUILTIN_DESIGNS]
    print(f"{'renders':>8}{'RSS MiB':>10}")
    print(f"{0:>8}{rss_kib() / 1024:>10.1f}")
    for index in range(1, renders + 1):
        design, language = designs[index % len(designs)]
        printed = dataclasses.replace(
            PrintedCertificate.sample_data(language),
            recipient_name=f"Мөңкүбек Үсөнов {index}",
            serial=f"OSH-2026-{index:06d}",
            sample=False,
        )
        render_certificate(
            printed,
            design,
            qr_payload=printed.verification_url + TOKEN,
            attachments={"credential.json": CREDENTIAL},
        )
        if index % 100 == 0:
            gc.collect()
            print(f"{index:>8}{rss_kib() / 1024:>10.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="renders per variant (50)")
    parser.add_argument("--design", default="tot-completion", help="design id")
    parser.add_argument("--lang", default=None, help="language (the design's first)")
    parser.add_argument("--memory", action="store_true", help="measure RSS over many renders")
    parser.add_argument("--renders", type=int, default=1000, help="renders for --memory")
    args = parser.parse_args(argv)

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32, "TESTING": True}
    )
    with app.app_context():
        if args.memory:
            memory(args.renders)
            return 0
        designs = {design.id: design for design in BUILTIN_DESIGNS}
        design = designs[args.design]
        speed(design, args.lang or design.languages[0], args.count, app.jinja_env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
