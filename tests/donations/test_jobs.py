"""Completing a project's approved transfers in a background job, and a worker dying in the middle of it.

The worker is django-tasks' own (tests/jobs.py runs its loop in the test's process); its death is
simulated by a BaseException (SimulatedKill) raised where a SIGKILL could strike: between two transfers, or
inside one after its protocol was issued but before its transaction committed. The job is then left
"running" with a heartbeat that no longer moves; `manage.py jobs_resume` queues it again and the next
worker completes the rest. What must hold: every transfer completed once, one protocol, one "completed"
event and one device move each; nothing of the interrupted transfer left behind.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from assets.choices import DeviceStatus
from assets.models import DeviceEvent
from core.choices import DocumentKind, JobStatus
from core.jobs import job_start
from core.models import Job, JobItem, StoredDocument
from core.roles import Role
from donations import jobs as donation_jobs
from donations import services
from donations.choices import TransferEventKind, TransferStatus
from donations.models import Transfer, TransferEvent
from tests.factories import UserFactory, allocate, make_beneficiary, make_order, make_project, make_set
from tests.jobs import SimulatedKill, run_worker

pytestmark = pytest.mark.django_db

TRANSFER_DAY = date(2021, 6, 21)


def approved_transfers(n: int):
    """A project with `n` households, each holding a set, under one order: `n` approved transfers."""
    lawyer = UserFactory(roles=[Role.LEGAL_OFFICE])
    manager = UserFactory(roles=[Role.PROJECT_MANAGER])
    project = make_project()
    households = [make_beneficiary(project) for _ in range(n)]
    kits = []
    for household in households:
        kit = make_set(project)
        allocate(household, kit)
        kits.append(kit)
    order = make_order(annex_beneficiaries=households)
    transfers = []
    for household, kit in zip(households, kits):
        transfer = services.transfer_create(order=order, recipient=household.recipient, transfer_date=TRANSFER_DAY,
                                            by=manager, kits=[kit])
        transfer = services.transfer_submit(transfer=transfer, by=manager)
        transfers.append(services.transfer_approve(transfer=transfer, by=lawyer, reason="zgodnie z zarządzeniem"))
    return project, order, transfers


def dying_after(monkeypatch, completions: int, *, mid_unit: bool = False):
    """Let the job's worker complete `completions` transfers, then die: before the next one starts, or (with
    `mid_unit`) inside the next one, after transfer_complete issued its protocol and moved its devices but
    before the unit's transaction committed."""
    real = donation_jobs.transfer_complete
    calls = Counter()

    def complete(**kwargs):
        calls["n"] += 1
        if calls["n"] > completions and not mid_unit:
            raise SimulatedKill
        result = real(**kwargs)
        if calls["n"] > completions:
            raise SimulatedKill
        return result

    monkeypatch.setattr(donation_jobs, "transfer_complete", complete)
    return lambda: monkeypatch.setattr(donation_jobs, "transfer_complete", real)


def protocols_of(transfers) -> Counter:
    kind = ContentType.objects.get_for_model(Transfer)
    return Counter(StoredDocument.objects.filter(kind=DocumentKind.TRANSFER_PROTOCOL, subject_type=kind,
                                                 subject_id__in=[t.pk for t in transfers])
                   .values_list("subject_id", flat=True))


def assert_each_completed_once(transfers) -> None:
    for transfer in transfers:
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.COMPLETED
    assert protocols_of(transfers) == Counter({t.pk: 1 for t in transfers})
    completed = Counter(TransferEvent.objects.filter(transfer__in=transfers, kind=TransferEventKind.COMPLETED)
                        .values_list("transfer_id", flat=True))
    assert completed == Counter({t.pk: 1 for t in transfers})
    devices = [item.device_id for t in transfers for item in t.items.all()]
    moves = Counter(DeviceEvent.objects.filter(device_id__in=devices, to_status=DeviceStatus.TRANSFERRED)
                    .values_list("device_id", flat=True))
    assert moves == Counter({device: 1 for device in devices})
    for transfer in transfers:
        assert transfer.protocol_id is not None


def test_a_worker_killed_between_transfers_is_resumed_and_completes_each_transfer_once(
        monkeypatch, django_capture_on_commit_callbacks):
    project, _order, transfers = approved_transfers(12)
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind=donation_jobs.COMPLETE_TRANSFERS, params={"project": project.pk}, by=clerk)

    revive = dying_after(monkeypatch, 5)
    run_worker(monkeypatch)  # the worker dies after the fifth transfer
    revive()

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.done == 5 and job.total == 12
    assert sum(1 for t in Transfer.objects.filter(pk__in=[t.pk for t in transfers])
               if t.status == TransferStatus.COMPLETED) == 5
    # the queue's own record says the task ended; nothing of the queue resumes the job: jobs_resume does
    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs_resume", "--older-than", "0")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED

    run_worker(monkeypatch, worker_id="second-worker")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.done, job.skipped, job.total, job.percent, job.attempts) == (12, 0, 12, 100, 2)
    assert_each_completed_once(transfers)
    assert JobItem.objects.filter(job=job).count() == 12
    # the first run recorded five units, the second the other seven
    assert Counter(JobItem.objects.filter(job=job).values_list("attempt", flat=True)) == Counter({1: 5, 2: 7})
    steps = list(job.events.values_list("from_status", "to_status"))
    assert steps == [("", "queued"), ("queued", "running"), ("running", "queued"), ("queued", "running"),
                     ("running", "succeeded")]
    # the transfers' rows name the clerk who started the job, not "the system"
    assert set(TransferEvent.objects.filter(transfer__in=transfers, kind=TransferEventKind.COMPLETED)
               .values_list("actor", flat=True)) == {clerk.pk}


def test_a_worker_killed_inside_a_transfer_leaves_no_protocol_of_it(monkeypatch, django_capture_on_commit_callbacks):
    _project, order, transfers = approved_transfers(3)
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind=donation_jobs.COMPLETE_TRANSFERS, params={"order": order.pk}, by=clerk)

    revive = dying_after(monkeypatch, 1, mid_unit=True)
    run_worker(monkeypatch)  # dies inside the second transfer, its protocol issued but not committed
    revive()

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.done == 1
    first, second, third = transfers
    second.refresh_from_db()
    assert second.status == TransferStatus.APPROVED and second.protocol_id is None
    assert protocols_of(transfers) == Counter({first.pk: 1})  # no orphan protocol row of the second
    assert not TransferEvent.objects.filter(transfer=second, kind=TransferEventKind.COMPLETED).exists()
    assert not DeviceEvent.objects.filter(device__transfer_items__transfer=second,
                                          to_status=DeviceStatus.TRANSFERRED).exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs_resume", "--older-than", "0")
    run_worker(monkeypatch, worker_id="second-worker")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.done == 3
    assert_each_completed_once(transfers)


def test_a_refused_transfer_is_skipped_with_its_reason_and_the_job_goes_on(
        monkeypatch, django_capture_on_commit_callbacks):
    project, _order, transfers = approved_transfers(3)
    refused = transfers[1]
    # one of its devices was stolen meanwhile: the check refuses this transfer at completion
    from assets.services import device_report_lost

    device_report_lost(device=refused.items.first().device, by=None, reference="KMP/2021/1")
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind=donation_jobs.COMPLETE_TRANSFERS, params={"project": project.pk}, by=clerk)
    run_worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert (job.done, job.skipped, job.total, job.percent) == (2, 1, 3, 100)
    refused.refresh_from_db()
    assert refused.status == TransferStatus.APPROVED
    skipped = JobItem.objects.get(job=job, outcome="skipped")
    assert skipped.label == refused.number and skipped.reason
    assert job.result["skipped"][0]["label"] == refused.number


# --- the API and the admin -------------------------------------------------------------------------------

def test_the_it_office_starts_it_from_the_api_and_follows_its_progress(
        api_en, monkeypatch, django_capture_on_commit_callbacks):
    project, _order, transfers = approved_transfers(2)
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    client = api_en(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("transfer-complete-for-project"), {"project": project.pk}, format="json")
    assert response.status_code == 202, response.data
    job_url = response["Location"]
    assert job_url.endswith(reverse("job-detail", kwargs={"pk": response.data["id"]}))
    assert response.data["status"] == "queued" and response.data["percent"] is None

    run_worker(monkeypatch)

    body = client.get(job_url).data
    assert (body["status"], body["done"], body["total"], body["percent"]) == ("succeeded", 2, 2, 100)
    assert body["result"]["completed"] == sorted(t.number for t in transfers)
    assert [e["to_status"] for e in body["events"]] == ["queued", "running", "succeeded"]


def test_bad_parameters_are_a_400_naming_the_field(api_en):
    client = api_en(UserFactory(roles=[Role.IT_OFFICE]))
    response = client.post(reverse("transfer-complete-for-project"), {}, format="json")
    assert response.status_code == 400 and "project" in response.data
    response = client.post(reverse("transfer-complete-for-project"), {"project": 999999}, format="json")
    assert response.status_code == 400 and "project" in response.data
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.LEGAL_OFFICE, Role.AUDITOR])
def test_only_who_may_complete_transfers_may_start_it(api_en, role):
    project = make_project()
    response = api_en(UserFactory(roles=[role])).post(reverse("transfer-complete-for-project"),
                                                      {"project": project.pk}, format="json")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_the_admin_completes_selected_transfers_in_the_background(client, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    _project, _order, transfers = approved_transfers(2)
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:donations_transfer_changelist"),
                               {"action": "transfer_complete_background",
                                "_selected_action": [t.pk for t in transfers]})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:core_job_change", args=[job.pk])
    run_worker(monkeypatch)
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 / 2 (100%)" in text
    assert_each_completed_once(transfers)


def test_a_run_taken_for_dead_that_wakes_up_stops_writing(monkeypatch, django_capture_on_commit_callbacks):
    """A worker paused for longer than JOB_STALE_AFTER (not dead after all) finds its job resumed by another
    worker: it stops before its next transfer, and writes neither the job's end nor any transfer twice."""
    from core.jobs import _claim, jobs_resume_stalled

    _project, order, transfers = approved_transfers(3)
    clerk = UserFactory(roles=[Role.IT_OFFICE])
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind=donation_jobs.COMPLETE_TRANSFERS, params={"order": order.pk}, by=clerk)
    real = donation_jobs.transfer_complete
    calls = Counter()

    def complete_then_pause(**kwargs):
        result = real(**kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # while this worker "sleeps", the job is taken for dead and another worker claims it
            jobs_resume_stalled(older_than=timedelta(0))
            assert _claim(job.pk).attempts == 2
        return result

    monkeypatch.setattr(donation_jobs, "transfer_complete", complete_then_pause)
    run_worker(monkeypatch)
    monkeypatch.setattr(donation_jobs, "transfer_complete", real)

    job.refresh_from_db()
    assert calls["n"] == 1  # the first run stopped before its second transfer
    assert job.status == JobStatus.RUNNING and job.attempts == 2 and not job.error
    assert not job.events.filter(to_status__in=["succeeded", "failed"]).exists()

    # the second worker dies in its turn; resumed once more, the job completes each transfer once
    with django_capture_on_commit_callbacks(execute=True):
        jobs_resume_stalled(older_than=timedelta(0))
    run_worker(monkeypatch, worker_id="third-worker")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.done == 3 and job.attempts == 3
    assert_each_completed_once(transfers)


def test_a_project_manager_prepares_a_projects_transfers_in_the_background(
        api_en, monkeypatch, django_capture_on_commit_callbacks):
    manager = UserFactory(roles=[Role.PROJECT_MANAGER])
    project = make_project()
    households = [make_beneficiary(project) for _ in range(3)]
    for household in households:
        allocate(household, make_set(project))
    order = make_order(annex_beneficiaries=households)
    client = api_en(manager)
    payload = {"order": order.pk, "project": project.pk, "transfer_date": "2021-06-21", "submit": True,
               "background": True}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("transfer-for-project"), payload, format="json")
    assert response.status_code == 202, response.data
    run_worker(monkeypatch)
    body = client.get(response["Location"]).data
    assert body["status"] == "succeeded", body["error"]
    assert len(body["result"]["created"]) == 3 and body["result"]["skipped"] == []
    assert Transfer.objects.filter(order=order, status=TransferStatus.SUBMITTED).count() == 3
    # a date before the order is in force: the service refuses it when the job runs, and the job fails saying so
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("transfer-for-project"), {**payload, "transfer_date": "2020-01-01"},
                               format="json")
    run_worker(monkeypatch)
    body = client.get(response["Location"]).data
    assert body["status"] == "failed" and body["error"]
    assert Transfer.objects.filter(order=order).count() == 3
