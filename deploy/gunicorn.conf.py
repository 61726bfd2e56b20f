"""gunicorn settings for Madrasa LMS: ``lms serve --production`` runs gunicorn with this file
(or run it directly: ``gunicorn -c deploy/gunicorn.conf.py lms.wsgi:app``).

Every value can be overridden on gunicorn's command line (``--bind``, ``--workers``…);
``lms serve --production --host H --port P`` passes ``--bind H:P``. See docs/deploy.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any


def _web_workers(environ: Mapping[str, str] = os.environ) -> int:
    """``LMS_WEB_WORKERS``, or gunicorn's rule of thumb (2 per core + 1) capped at 8.

    Each worker holds the whole app (with WeasyPrint) in memory, about 150 MB; past 8 a
    machine serves more by adding Celery workers or another web machine than web workers.
    """
    raw = environ.get("LMS_WEB_WORKERS", "").strip()
    if raw:
        try:
            workers = int(raw)
        except ValueError:
            raise SystemExit(f"LMS_WEB_WORKERS must be a whole number, not {raw!r}.") from None
        if workers < 1:
            raise SystemExit("LMS_WEB_WORKERS must be 1 or more.")
        return workers
    return min(2 * (os.cpu_count() or 1) + 1, 8)


# Where to listen: nginx proxies to this address (``--bind`` or ``lms serve --port`` override).
bind = ["127.0.0.1:8000"]
workers = _web_workers()
# Synchronous workers: nginx buffers slow clients, so a worker is busy only while the app
# computes. Long work (PDF batches, reports) goes to Celery workers, not here.
worker_class = "sync"
# Build the app once in the master: workers fork with it loaded (less memory, faster
# restarts) and a configuration error stops the start instead of looping in every worker.
preload_app = True
# A request that takes longer than this is killed (nginx waits a little longer, 65 s).
timeout = 60
graceful_timeout = 30
keepalive = 5
# Restart each worker after about a thousand requests (jitter: not all at once), so memory
# that fragments or leaks (PDF rendering, XLSX exports) stays bounded.
max_requests = 1000
max_requests_jitter = 100

proc_name = "lms-web"
# Logs go to standard output and error: journald (systemd) keeps and rotates them.
accesslog = "-"
errorlog = "-"
loglevel = "info"
# No query strings (they carry search terms such as names), no client address, referrer or
# user agent: personal data stays out of the access log. %(U)s is the path alone,
# %(M)s the duration in milliseconds. nginx's log has the client address for abuse cases.
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# No control socket (gunicorn 25+ opens one in $HOME for `gunicornc`): systemd manages the
# processes, and two instances under one user would fight over the same socket path.
control_socket_disable = True
# The heartbeat file in memory, not on a disk that may stall under backup load.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def post_fork(server: Any, worker: Any) -> None:
    """Each worker opens its own database connections, never the master's."""
    wsgi = sys.modules.get("lms.wsgi")
    if wsgi is not None:
        wsgi.reset_after_fork()
