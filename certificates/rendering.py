"""Rendering issued certificates to PDF, once each, from their frozen record.

A certificate's PDF is made from what was frozen when it was issued (``printed``, the token
and the signed credential), stored with its SHA-256, and never rendered again. Batches are
rendered by a background job:

- with a Celery broker, the job splits the batch into chunks that every worker renders in
  parallel; each chunk adds to the job's count and the chunk that completes it ends the job;
- in the embedded default (no broker), the job runs in a thread of the web process and, for
  batches worth it, renders chunks in a pool of processes (one per core), each with its own
  app, its own database connection and one FontConfiguration and parsed CSS for its life.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import undefer

from certificates.designs import all_templates
from certificates.models import Certificate
from certificates.printed import PrintedCertificate
from certificates.render import render_certificate
from lms import jobs
from lms.errors import Invalid
from lms.extensions import db
from lms.jobs import SUCCEEDED, Job, job_task
from lms.timeutil import utcnow

#: Certificates rendered per unit of work (a Celery task or a pool submission).
CHUNK = 20
#: Below this many, a pool of processes costs more (start-up) than it saves.
POOL_THRESHOLD = 40
#: The file names attached to every certificate PDF.
CREDENTIAL_ATTACHMENT = "credential.json"
TOKEN_ATTACHMENT = "token.txt"  # nosec B105  # a file name, not a password


def qr_payload(certificate: Certificate) -> str:
    """What the QR code holds: the verification URL, and the signed token after ``#t=``.

    A phone opening it online sees the live status; the offline verifier reads the token
    from the fragment (never sent to the server) and checks its signature.
    """
    return f"{certificate.printed['verification_url']}#t={certificate.token}"


def pdf_bytes(certificate: Certificate) -> bytes:
    """Render one certificate from its frozen record (does not store it)."""
    design = all_templates().get(certificate.design_id)
    if design is None:
        raise Invalid(_l("The design of this certificate is no longer installed."))
    return render_certificate(
        PrintedCertificate.from_json(certificate.printed),
        design,
        qr_payload=qr_payload(certificate),
        attachments={
            CREDENTIAL_ATTACHMENT: certificate.credential.encode(),
            TOKEN_ATTACHMENT: certificate.token.encode(),
        },
    )


def store_pdf(certificate_id: int, pdf: bytes) -> bool:
    """Keep a rendered PDF unless one is there already (it is never replaced)."""
    changed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.pdf_sha256.is_(None))
        .values(pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(), rendered_at=utcnow())
    ).rowcount
    return changed == 1


def ensure_pdf(certificate: Certificate) -> bytes:
    """The stored PDF, rendering and storing it first if it was not rendered yet."""
    stored = db.session.scalar(select(Certificate.pdf).where(Certificate.id == certificate.id))
    if stored is not None:
        return stored
    pdf = pdf_bytes(certificate)
    store_pdf(certificate.id, pdf)
    db.session.commit()
    stored = db.session.scalar(select(Certificate.pdf).where(Certificate.id == certificate.id))
    return stored if stored is not None else pdf


def render_chunk(certificate_ids: Sequence[int]) -> int:
    """Render and store the PDFs of these certificates (skipping rendered ones).

    Rendered first, stored together at the end: on SQLite the write lock is held for
    milliseconds, not for the whole chunk, so parallel renderers rarely wait (a reading
    transaction in WAL mode blocks no writer).
    """
    pending = db.session.scalars(
        select(Certificate)
        .where(Certificate.id.in_(certificate_ids), Certificate.pdf_sha256.is_(None))
        .order_by(Certificate.id)
    ).all()
    rendered = [(certificate.id, pdf_bytes(certificate)) for certificate in pending]
    done = sum(store_pdf(certificate_id, pdf) for certificate_id, pdf in rendered)
    db.session.commit()
    return done


def pending_ids(batch_id: str) -> list[int]:
    return list(
        db.session.scalars(
            select(Certificate.id)
            .where(Certificate.batch_id == batch_id, Certificate.pdf_sha256.is_(None))
            .order_by(Certificate.id)
        )
    )


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def start_batch(
    certificates: Iterable[Certificate], *, name: str, created_by_id: int, link: str = ""
) -> Job:
    """Give the certificates a batch (the job's id) and start rendering them.

    ``link`` is where the job page sends the user when the job is done.
    """
    job = jobs.Job(
        id=jobs.new_job_id(),
        name=name,
        created_by_id=created_by_id,
        result={"link": link} if link else {},
    )
    ids = [certificate.id for certificate in certificates]
    db.session.add(job)
    db.session.execute(update(Certificate).where(Certificate.id.in_(ids)).values(batch_id=job.id))
    job.total = len(ids)
    db.session.commit()
    jobs.launch(job, render_batch)
    return job


@job_task()
def render_batch(job_id: str) -> None:
    """Render a batch: fan out to Celery workers, a process pool, or render here."""
    ids = pending_ids(job_id)
    total = db.session.scalar(
        select(func.count(Certificate.id)).where(Certificate.batch_id == job_id)
    )
    done = (total or 0) - len(ids)
    jobs.report_progress(job_id, done, total or 0)
    if not ids:
        _finish(job_id)
        return
    if not current_app.extensions["celery"].conf.task_always_eager:
        for chunk in _chunks(ids):
            render_batch_chunk.delay(job_id, chunk)
        return
    processes = render_processes()
    threshold = int(current_app.config.get("CERTIFICATES_POOL_THRESHOLD") or POOL_THRESHOLD)
    if processes > 1 and len(ids) >= threshold:
        _render_in_pool(job_id, ids, processes, done, total or 0)
    else:
        for chunk in _chunks(ids):
            done += render_chunk(chunk)
            jobs.report_progress(job_id, done, total or 0)
    _finish(job_id)


# Acknowledged after the work: a worker killed mid-chunk (out of memory, a slow restart)
# leaves the chunk queued for another, and rendering it again is harmless.
@jobs.celery.task(
    name="certificates.rendering.render_batch_chunk", acks_late=True, reject_on_worker_lost=True
)
def render_batch_chunk(job_id: str, certificate_ids: list[int]) -> None:
    """One chunk of a batch in a Celery worker; the chunk that completes the batch ends it."""
    try:
        rendered = render_chunk(certificate_ids)
    except Exception as error:
        jobs.fail_job(job_id, f"{type(error).__name__}: {error}")
        raise
    jobs.add_progress(job_id, rendered)
    _finish_if_complete(job_id)


def _finish_if_complete(job_id: str) -> None:
    if not pending_ids(job_id):
        _finish(job_id)


def _finish(job_id: str) -> None:
    total = db.session.scalar(
        select(func.count(Certificate.id)).where(Certificate.batch_id == job_id)
    )
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status != SUCCEEDED)
        .values(status=SUCCEEDED, done=total or 0, total=total or 0, updated_at=utcnow())
    )
    db.session.commit()


def render_processes() -> int:
    """How many processes render a large batch without a broker (default: one per core)."""
    configured = int(current_app.config.get("CERTIFICATES_RENDER_PROCESSES") or 0)
    if configured > 0:
        return configured
    return max(1, min(os.cpu_count() or 1, 8))


# --- the pool of the embedded default ---------------------------------------------------

_child_app: Flask | None = None

#: Settings a pool process needs to build the same app (plugins come from entry points).
_CHILD_SETTINGS = (
    "ENV",
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "PUBLIC_URL",
    "DISABLED_PLUGINS",
    "LOAD_ENTRYPOINTS",
    "CERTIFICATES_ISSUER_NAME",
    "BABEL_DEFAULT_TIMEZONE",
)


def _child_settings(app: Flask) -> dict[str, Any]:
    settings = {key: app.config[key] for key in _CHILD_SETTINGS if key in app.config}
    settings["INSTANCE_PATH"] = app.instance_path
    return settings


def _init_child(settings: dict[str, Any]) -> None:
    global _child_app
    from lms import create_app

    _child_app = create_app(settings)


def _render_in_child(certificate_ids: list[int]) -> int:
    assert _child_app is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    with _child_app.app_context():
        try:
            return render_chunk(certificate_ids)
        finally:
            db.session.remove()


def _render_in_pool(job_id: str, ids: list[int], processes: int, done: int, total: int) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # "spawn": the web process has threads, and forking a threaded process is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=context,
        initializer=_init_child,
        initargs=(_child_settings(app),),
    ) as pool:
        futures = [pool.submit(_render_in_child, chunk) for chunk in _chunks(ids)]
        for future in as_completed(futures):
            done += future.result()
            jobs.report_progress(job_id, done, total)


# --- downloads of a cohort's certificates ---------------------------------------------------


def zip_of(certificates: Sequence[Certificate]) -> bytes:
    """One ZIP with every certificate's stored PDF, named by serial and name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            archive.writestr(_file_name(certificate), ensure_pdf(certificate))
    return buffer.getvalue()


def merged_pdf(certificates: Sequence[Certificate]) -> bytes:
    """Every certificate in one PDF, one page each, for printing in one go."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for certificate in certificates:
        writer.append(io.BytesIO(ensure_pdf(certificate)), import_outline=False)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _file_name(certificate: Certificate) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in certificate.name_as_printed).strip("-")
    return f"{certificate.serial}-{safe[:60] or 'certificate'}.pdf"


def with_pdfs(query: Any) -> Any:
    return query.options(undefer(Certificate.pdf))
