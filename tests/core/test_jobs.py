"""Background jobs (core.jobs): an import applied and a report issued in the background, end to end through
the API and the real worker; a worker dying inside an import; who sees and resumes which job; the refusals;
and two workers claiming one job at once.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assets.models import Device
from core import imports
from core.choices import ImportStatus, JobStatus
from core.jobs import JobKind, job_run, job_start, jobs_resume_stalled, register
from core.models import ImportBatch, Job, JobItem
from core.roles import Role
from reports.models import IssuedReport
from tests.factories import UserFactory, make_councillor, make_device
from tests.jobs import SimulatedKill, run_worker

pytestmark = pytest.mark.django_db

DEVICES = ("inventory_number;kind;manufacturer;model;serial_number;purchase_date;purchase_price\n"
           + "".join(f"UM/JOB/{n:03d};laptop;Dell;Latitude 5400;DL-{n:03d};2021-03-01;3500,00\n" for n in range(1, 21))
           ).encode()


@pytest.fixture
def clerk(db):
    return UserFactory(roles=[Role.IT_OFFICE], username="j.informatyk")


def previewed(by) -> ImportBatch:
    return imports.import_preview(table="devices", file=SimpleUploadedFile("sprzet.csv", DEVICES),
                                  file_name="sprzet.csv", by=by, size=len(DEVICES))


# --- an import in the background -----------------------------------------------------------------------

def test_an_import_confirmed_in_the_background_is_applied_by_the_worker(
        api_en, clerk, monkeypatch, django_capture_on_commit_callbacks):
    batch = previewed(clerk)
    client = api_en(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-batch-confirm", kwargs={"pk": batch.pk}),
                               {"sha256": hashlib.sha256(DEVICES).hexdigest(), "background": True}, format="json")
    assert response.status_code == 202, response.data
    assert response.data["kind"] == "core.import_confirm" and response.data["status"] == "queued"
    assert not Device.objects.filter(inventory_number__startswith="UM/JOB/").exists()  # nothing yet

    run_worker(monkeypatch)

    body = client.get(response["Location"]).data
    assert (body["status"], body["done"], body["total"], body["percent"]) == ("succeeded", 20, 20, 100)
    assert body["result"]["created"] == 20
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED and batch.decided_by == clerk
    assert Device.objects.filter(inventory_number__startswith="UM/JOB/").count() == 20


def test_a_worker_killed_inside_an_import_leaves_nothing_and_the_resumed_job_applies_it_once(
        clerk, monkeypatch, django_capture_on_commit_callbacks):
    batch = previewed(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="core.import_confirm", params={"batch": batch.pk, "sha256": batch.sha256}, by=clerk)
    real = imports._record_rows

    def die_after_writing(batch_, results):
        real(batch_, results)
        raise SimulatedKill  # the devices of the chunk are written, the transaction not committed

    monkeypatch.setattr(imports, "_record_rows", die_after_writing)
    run_worker(monkeypatch)
    monkeypatch.setattr(imports, "_record_rows", real)

    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.done == 0
    assert batch.status == ImportStatus.PREVIEWED
    assert not Device.objects.filter(inventory_number__startswith="UM/JOB/").exists()
    assert not JobItem.objects.filter(job=job).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert [j.pk for j in jobs_resume_stalled(older_than=timedelta(0))] == [job.pk]
    run_worker(monkeypatch, worker_id="second-worker")

    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.done == 20 and job.attempts == 2
    assert batch.status == ImportStatus.APPLIED
    assert Device.objects.filter(inventory_number__startswith="UM/JOB/").count() == 20


def test_a_refused_import_fails_the_job_with_the_reason(clerk, monkeypatch, django_capture_on_commit_callbacks):
    batch = previewed(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="core.import_confirm", params={"batch": batch.pk, "sha256": batch.sha256}, by=clerk)
    make_device(inventory_number="UM/JOB/007")  # the register changed since the preview
    run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error  # the refusal's reason, in the office's language
    assert not JobItem.objects.filter(job=job).exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED


def test_bad_import_parameters_are_refused_at_once(api_en, clerk):
    batch = previewed(clerk)
    url = reverse("import-batch-confirm", kwargs={"pk": batch.pk})
    response = api_en(clerk).post(url, {"background": True}, format="json")
    assert response.status_code == 400 and "sha256" in response.data
    response = api_en(clerk).post(url, {"sha256": "0" * 64, "background": True}, format="json")
    assert response.status_code == 409 and "sha256" in response.data
    assert not Job.objects.exists()


# --- a report in the background ------------------------------------------------------------------------

def test_a_report_issued_in_the_background(api_en, clerk, monkeypatch, django_capture_on_commit_callbacks):
    make_device()
    client = api_en(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("issued-report-list"), {"kind": "inventory_register", "background": True},
                               format="json")
    assert response.status_code == 202, response.data
    run_worker(monkeypatch)
    body = client.get(response["Location"]).data
    assert body["status"] == "succeeded", body["error"]
    report = IssuedReport.objects.get(pk=body["result"]["report"])
    assert report.issued_by == clerk and report.document.code == body["result"]["code"]


def test_a_report_with_a_future_year_is_a_400_naming_the_year(api_en, clerk):
    response = api_en(clerk).post(reverse("issued-report-list"),
                                  {"kind": "disposal_report", "year": timezone.localdate().year + 1,
                                   "background": True}, format="json")
    assert response.status_code == 400 and "year" in response.data
    assert not Job.objects.exists()


def test_a_project_manager_may_not_issue_reports_in_the_background_either(api_en):
    response = api_en(UserFactory(roles=[Role.PROJECT_MANAGER])).post(
        reverse("issued-report-list"), {"kind": "inventory_register", "background": True}, format="json")
    assert response.status_code == 403 and not Job.objects.exists()


# --- who sees and resumes which job ----------------------------------------------------------------------

def test_a_person_sees_their_own_jobs_the_it_office_and_the_auditor_everyones(api, clerk):
    lawyer = UserFactory(roles=[Role.LEGAL_OFFICE])
    mine = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=lawyer)
    theirs = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=clerk)
    ids = lambda user: {row["id"] for row in api(user).get(reverse("job-list")).data["results"]}  # noqa: E731
    assert ids(lawyer) == {mine.pk}
    assert ids(clerk) == {mine.pk, theirs.pk}
    assert ids(UserFactory(roles=[Role.AUDITOR])) == {mine.pk, theirs.pk}
    assert api(lawyer).get(reverse("job-detail", kwargs={"pk": theirs.pk})).status_code == 404
    mine_only = api(clerk).get(reverse("job-list"), {"mine": "true"}).data["results"]
    assert [row["id"] for row in mine_only] == [theirs.pk]
    councillor = make_councillor(username="radna").user
    assert api(councillor).get(reverse("job-list")).status_code == 403
    assert api(councillor).get(reverse("job-detail", kwargs={"pk": mine.pk})).status_code in (403, 404)


def test_a_job_is_resumed_only_when_its_worker_is_silent(api_en, clerk):
    job = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=clerk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    url = reverse("job-resume", kwargs={"pk": job.pk})
    response = api_en(clerk).post(url)
    assert response.status_code == 409 and "status" in response.data
    assert jobs_resume_stalled() == []  # alive: the cron command leaves it alone too
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    response = api_en(clerk).post(url)
    assert response.status_code == 200 and response.data["status"] == "queued"
    assert response.data["events"][-1]["actor"] == clerk.username
    assert api_en(clerk).post(url).status_code == 409  # queued: nothing to resume


def test_the_resume_command_reports_what_it_resumed(clerk, capsys):
    job = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=clerk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1,
                                         heartbeat_at=timezone.now() - timedelta(hours=1))
    call_command("jobs_resume")
    assert "1" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    step = job.events.last()
    assert (step.from_status, step.to_status, step.actor) == ("running", "queued", None) and step.reason


def test_the_admin_shows_the_progress_and_resumes_a_failed_job(client, clerk):
    job = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=clerk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, total=4, done=1, skipped=1, error="boom")
    client.force_login(clerk)
    page = client.get(reverse("admin:core_job_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "2 / 4 (50%)" in page.content.decode()
    response = client.post(reverse("admin:core_job_changelist"),
                           {"action": "resume_jobs", "_selected_action": [job.pk]}, follow=True)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_the_admin_applies_an_import_in_the_background(client, clerk, django_capture_on_commit_callbacks):
    batch = previewed(clerk)
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("admin:core_importbatch_confirm", args=[batch.pk]),
                               {"confirm-sha256": batch.sha256, "confirm-background": "True"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:core_job_change", args=[job.pk])
    assert job.params == {"batch": batch.pk, "sha256": batch.sha256}
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'http-equiv="refresh"' in page.content


# --- two workers, one job --------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_claiming_one_job_at_once_run_it_once():
    from tests.concurrency import race

    runs = []
    register(JobKind(name="tests.count", label="count", clean=lambda params, by: params,
                     run=lambda ctx: runs.append(ctx.attempt) or {"ran": True}))
    job = job_start(kind="tests.count", params={}, by=None)
    outcomes = race([lambda: (lambda: job_run(job_id=job.pk))] * 2)
    claimed = [outcome for outcome in outcomes if isinstance(outcome, Job)]
    assert len(claimed) == 1 and outcomes.count(None) == 1, outcomes
    assert runs == [1]
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1


def test_the_report_page_issues_a_report_in_the_background(client, clerk, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:documents"), {"kind": "inventory_register", "background": "on"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:core_job_change", args=[job.pk])
    run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and IssuedReport.objects.get(pk=job.result["report"]).issued_by == clerk
    response = client.post(reverse("reports:documents"), {"kind": "disposal_report", "background": "on",
                                                          "year": timezone.localdate().year + 1}, follow=True)
    assert Job.objects.count() == 1  # a future year: refused on the page, no job
    assert any(m.level_tag == "error" for m in response.context["messages"])
