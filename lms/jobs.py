"""Background jobs: a Celery app, and a ``Job`` row so pages can show progress.

In the embedded default there is no broker: tasks run in-process, in a background thread
of the web process, so the page that started a job can show its progress bar while it runs
(``LMS_JOBS_IN_BACKGROUND=false`` runs them at once, inside the request, as the tests do).
Set ``LMS_CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``) and run
``celery -A lms.worker worker`` to run them in workers instead; the code is the same.

A long task is started with ``start_job``; it reports with ``report_progress`` and ends
with ``finish_job`` (or fails, which the task wrapper records). ``/jobs/<id>`` shows it.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, has_app_context
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


class FlaskTask(Task):
    """Runs each task in a fresh app context: its own database session, committed alone.

    Eagerly (no broker) the task runs inside the request that queued it, so it takes a new
    context of that same app; in a worker (``celery -A lms.worker worker``) it uses the
    worker's app.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object() if has_app_context() else _worker_app()  # type: ignore[attr-defined]
        with app.app_context():
            return self.run(*args, **kwargs)


celery = Celery("lms", task_cls=FlaskTask)
_app_for_worker: list[Flask] = []


def _worker_app() -> Flask:
    if not _app_for_worker:
        from lms import create_app

        _app_for_worker.append(create_app())
    return _app_for_worker[0]


class Job(db.Model):
    """A unit of long work and how far it has got."""

    __tablename__ = "lms_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def percent(self) -> int:
        if self.status == SUCCEEDED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in {SUCCEEDED, FAILED}


class JobFile(db.Model):
    """A file a job produced (a report PDF, a ZIP of certificates), kept for downloading.

    Stored in the database so every web process and worker sees it without a shared disk;
    the bytes are loaded only when the file is downloaded.
    """

    __tablename__ = "lms_job_file"
    __table_args__ = (UniqueConstraint("job_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("lms_job.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def attach_file(job_id: str, name: str, mimetype: str, data: bytes) -> JobFile:
    """Keep a job's output (replacing an earlier file of the same name); the caller commits."""
    existing = db.session.scalar(
        select(JobFile).where(JobFile.job_id == job_id, JobFile.name == name)
    )
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    stored = JobFile(job_id=job_id, name=name, mimetype=mimetype, size=len(data), data=data)
    db.session.add(stored)
    return stored


def job_file(job_id: str, name: str) -> JobFile | None:
    return db.session.scalar(select(JobFile).where(JobFile.job_id == job_id, JobFile.name == name))


def init_celery(app: Flask) -> Celery:
    """Point the shared Celery app at this app's broker; eager (in-process) without one."""
    broker = app.config.get("CELERY_BROKER_URL")
    celery.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND") or None,
        task_always_eager=not broker,
        task_eager_propagates=False,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    app.extensions["celery"] = celery
    return celery


def new_job_id() -> str:
    return str(uuid.uuid4())


def start_job(name: str, task: Any, *args: Any, created_by_id: int | None = None) -> Job:
    """Create the job row (committed, so workers see it), then queue ``task(job_id, *args)``."""
    job = Job(id=new_job_id(), name=name, created_by_id=created_by_id)
    db.session.add(job)
    db.session.commit()
    launch(job, task, *args)
    return job


def launch(job: Job, task: Any, *args: Any) -> None:
    """Run ``task(job.id, *args)`` for a job row that is already committed.

    With a broker the task goes to a worker. Without one it runs in a background thread of
    this process (the embedded default), or at once when ``JOBS_IN_BACKGROUND`` is off.
    """
    job_id = job.id
    if celery.conf.task_always_eager and current_app.config.get("JOBS_IN_BACKGROUND", True):
        run_in_thread(task, job_id, *args)
    else:
        task.delay(job_id, *args)
    db.session.expire(job)


def run_in_thread(task: Any, *args: Any) -> threading.Thread:
    """Run a task in a daemon thread with its own app context (and so its own session)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def runner() -> None:
        with app.app_context():
            try:
                task(*args)
            except Exception:  # recorded on the job by job_task; nothing else to do here  # nosec B110
                pass
            finally:
                db.session.remove()

    key = str(args[0]) if args else ""
    thread = threading.Thread(target=runner, name=f"lms-job-{key}")
    thread.daemon = True
    _background[key] = thread
    thread.start()
    return thread


#: Background threads by job id, so the command line (and tests) can wait for one to end.
_background: dict[str, threading.Thread] = {}


def wait_for_job(job_id: str, timeout: float | None = None) -> bool:
    """Wait for a job running in a thread of this process; True once it is no longer running.

    Jobs sent to workers are not waited for (their page shows their progress).
    """
    thread = _background.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    if thread.is_alive():
        return False
    _background.pop(job_id, None)
    return True


def _set(job_id: str, **values: Any) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(), **values))
    db.session.commit()


def report_progress(job_id: str, done: int, total: int, message: str = "") -> None:
    """Record how far a running job has got (committed at once, so pages see it)."""
    _set(job_id, status=RUNNING, done=done, total=total, message=message)


def add_progress(job_id: str, done: int) -> None:
    """Add to a job's count atomically (parallel workers each report their own part)."""
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status != SUCCEEDED)
        .values(done=Job.done + done, status=RUNNING, updated_at=utcnow())
    )
    db.session.commit()


def finish_job(job_id: str, result: dict[str, Any] | None = None, message: str = "") -> None:
    _set(job_id, status=SUCCEEDED, result=result or {}, message=message)


def fail_job(job_id: str, message: str) -> None:
    db.session.rollback()
    _set(job_id, status=FAILED, message=message[:500])


def job_task(**options: Any) -> Any:
    """Decorator for job tasks: the first argument is the job id; failures are recorded."""

    def decorator(func: Any) -> Any:
        def run(job_id: str, *args: Any, **kwargs: Any) -> Any:
            try:
                _set(job_id, status=RUNNING)
                return func(job_id, *args, **kwargs)
            except Exception as error:
                fail_job(job_id, f"{type(error).__name__}: {error}")
                raise

        run.__name__ = func.__name__
        run.__qualname__ = func.__qualname__
        run.__module__ = func.__module__
        return celery.task(name=f"{func.__module__}.{func.__name__}", **options)(run)

    return decorator
