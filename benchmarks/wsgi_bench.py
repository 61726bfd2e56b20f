"""The application as gunicorn serves it in production, plus one bare route for comparison.

``gunicorn benchmarks.wsgi_bench:app`` — the same ``create_app`` and settings (``LMS_*``
environment variables), and ``GET /_bare``: a Flask route that does nothing but answer, to
measure what the stack itself (gunicorn, Flask, the app's request hooks) can serve. Used
by ``benchmarks/pages.py --load``; never part of the product.
"""

from __future__ import annotations

from flask import Response

from lms import create_app

app = create_app()


@app.get("/_bare")
def bare() -> Response:
    return Response("ok", mimetype="text/plain")
