"""Entry point for Celery workers: ``celery -A lms.worker worker``.

Builds the app once (with every plugin, so every task module is imported) and exposes the
Celery app configured from the same ``LMS_*`` settings the web processes use. The Flask app
is not called ``app`` here: Celery's ``-A module`` takes a module's ``app`` attribute.
"""

from __future__ import annotations

from lms import create_app
from lms.jobs import _app_for_worker

flask_app = create_app()
_app_for_worker.append(flask_app)
celery = flask_app.extensions["celery"]
