"""Background jobs run in-process in the embedded default and report their progress."""

from __future__ import annotations

import threading

from lms import jobs
from lms.extensions import db
from tests import factories


@jobs.job_task()
def count_to(job_id: str, n: int) -> None:
    for i in range(1, n + 1):
        jobs.report_progress(job_id, i, n, message=f"counted {i}")
    jobs.finish_job(job_id, {"counted": n}, message="done")


@jobs.job_task()
def always_fails(job_id: str) -> None:
    raise RuntimeError("the printer is on fire")


def test_without_a_broker_jobs_run_at_once_in_process(app):
    assert app.extensions["celery"].conf.task_always_eager
    owner = factories.user("trainer")
    db.session.commit()
    job = jobs.start_job("Counting", count_to, 5, created_by_id=owner.id)
    db.session.refresh(job)
    assert (job.status, job.done, job.total, job.percent) == ("succeeded", 5, 5, 100)
    assert job.result == {"counted": 5}


def test_failed_job_is_recorded_with_its_reason(app):
    job = jobs.start_job("Failing", always_fails)
    db.session.refresh(job)
    assert job.status == "failed" and "the printer is on fire" in job.message


def test_job_page_shows_progress_to_its_owner_only(app, client):
    owner, stranger = factories.user("trainer"), factories.user("trainer")
    db.session.commit()
    job = jobs.start_job("Counting", count_to, 3, created_by_id=owner.id)
    factories.login(client, owner)
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and "Counting" in page.get_data(as_text=True)
    assert client.get(f"/jobs/{job.id}.json").json["percent"] == 100

    other = app.test_client()
    factories.login(other, stranger)
    assert other.get(f"/jobs/{job.id}").status_code == 404


def test_broker_configuration_turns_off_eager_mode(make_app):
    app = make_app({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"})
    try:
        assert app.extensions["celery"].conf.task_always_eager is False
        assert app.extensions["celery"].conf.broker_url == "redis://127.0.0.1:6379/15"
    finally:
        make_app()  # later tests in this process get the eager default back


@jobs.job_task()
def writes_a_file(job_id: str) -> None:
    jobs.attach_file(job_id, "report.csv", "text/csv", b"a,b\n1,2\n")
    jobs.finish_job(job_id)


def test_files_a_job_made_are_downloaded_by_its_owner_only(app, client):
    owner, stranger = factories.user("trainer"), factories.user("trainer")
    db.session.commit()
    job = jobs.start_job("Writing", writes_a_file, created_by_id=owner.id)
    factories.login(client, owner)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f"/jobs/{job.id}/files/report.csv" in page
    download = client.get(f"/jobs/{job.id}/files/report.csv")
    assert download.status_code == 200 and download.data == b"a,b\n1,2\n"
    assert download.mimetype == "text/csv"
    assert client.get(f"/jobs/{job.id}/files/other.csv").status_code == 404

    other = app.test_client()
    factories.login(other, stranger)
    assert other.get(f"/jobs/{job.id}/files/report.csv").status_code == 404


_release = threading.Event()


@jobs.job_task()
def waits_for_release(job_id: str) -> None:
    jobs.report_progress(job_id, 1, 2, message="half way")
    _release.wait(timeout=30)
    jobs.finish_job(job_id, {"released": True})


def test_in_the_embedded_default_a_job_runs_in_the_background(make_app):
    """Without a broker the request that starts a job returns at once; the page shows progress."""
    app = make_app({"JOBS_IN_BACKGROUND": True})
    with app.app_context():
        owner = factories.user("trainer")
        db.session.commit()
        _release.clear()
        job = jobs.start_job("Waiting", waits_for_release, created_by_id=owner.id)
        client = app.test_client()
        factories.login(client, owner)
        # The job has not finished: the page refreshes itself until it does.
        page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert 'http-equiv="refresh"' in page
        _release.set()
        assert jobs.wait_for_job(job.id, timeout=30)
        db.session.expire_all()
        assert client.get(f"/jobs/{job.id}.json").json["result"] == {"released": True}
