"""Background jobs: work too big for a request, run by a worker of the task queue on behalf of a person.

The queue is Django's tasks API through django-tasks' database backend (see README, "Background jobs"):
`job_start` records a `Job` and, once its transaction commits, enqueues `core.tasks.run_job`; a
`manage.py db_worker` process picks the task up and calls `job_run`, which claims the job, runs its kind
and finishes it.

An app declares what it can run in the background as a `JobKind` and registers it from its own `jobs.py`
(imported by its AppConfig.ready()); core knows nothing of donations or reports.

Why nothing is done twice. A kind does its work unit by unit through `JobContext.run_item(key, work)`: the
unit's JobItem (job, key) is inserted first and the work runs in the same transaction. A worker that dies
mid-unit (SIGKILL, the machine going down) leaves neither the item nor the work's rows; one that dies
between units leaves the units before it committed, each with its item. django-tasks' worker does not
notice a worker that died: a job whose heartbeat stopped is found by `jobs_resume_stalled` (the
`jobs_resume` command, from cron), put back in the queue and run again, and the new run skips every key
already recorded. Should the dead run still be alive after all (a worker paused for long), the unique
(job, key) stops it from repeating a unit and the run counter (`attempts`) stops it from writing the job.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import actor as _actor
from core.choices import JOB_TRANSITIONS, JobItemOutcome, JobStatus
from core.exceptions import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from core.middleware import current_request_id
from core.models import Job, JobEvent, JobItem

__all__ = [
    "JobContext",
    "JobKind",
    "get_kind",
    "job_resume",
    "job_run",
    "job_start",
    "jobs_resume_stalled",
    "kind_label",
    "kinds",
    "register",
    "visible_jobs",
]

logger = logging.getLogger(__name__)
User = AbstractBaseUser

# How many skipped units the job's result lists with their reasons (all are in its items).
RESULT_SKIPPED = 100


@dataclass(frozen=True)
class JobKind:
    """What an app can run in the background.

    `clean(params, by)` validates what the person asked for and returns the parameters to store (JSON),
    raising InvalidInput naming the field; `run(ctx)` does the work through `ctx.run_item` and returns a
    summary for the job's result. `permissions` are those the person needs to start it (those of the
    move it makes); `may_start(user, params)` can refuse further (an import's own table).
    """

    name: str
    label: Any
    run: Callable[[JobContext], dict | None]
    clean: Callable[[dict, Any], dict]
    permissions: tuple[str, ...] = ()
    may_start: Callable[[Any, dict], bool] | None = None


_REGISTRY: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    _REGISTRY[kind.name] = kind
    return kind


def kinds() -> list[JobKind]:
    return list(_REGISTRY.values())


def get_kind(name: str) -> JobKind:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInput(_("There is no background job “%(kind)s”; choose one of: %(kinds)s.")
                           % {"kind": name, "kinds": ", ".join(sorted(_REGISTRY))}, field="kind") from None


def kind_label(name: str) -> str:
    kind = _REGISTRY.get(name)
    return str(kind.label) if kind is not None else name


def visible_jobs(user, queryset=None):
    """The jobs `user` may read: everyone's with core.view_all_jobs, otherwise those they started."""
    queryset = Job.objects.all() if queryset is None else queryset
    if not (user and user.is_active and user.is_authenticated):
        return queryset.none()
    if user.has_perm("core.view_all_jobs"):
        return queryset
    return queryset.filter(created_by=user)


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.JOB_STALE_AFTER)


# --- moves of a job -------------------------------------------------------------------------------------

def _event(job: Job, *, from_status: str, by: User | None, reason: str = "") -> JobEvent:
    return JobEvent.objects.create(job=job, actor=_actor(by), from_status=from_status, to_status=job.status,
                                   reason=reason, request_id=current_request_id())


def _check(job: Job, to: str) -> None:
    if to not in JOB_TRANSITIONS[job.status]:
        raise TransitionNotAllowed(_("Job #%(id)s is %(status)s; it cannot become %(to)s.")
                                   % {"id": job.pk, "status": job.get_status_display(), "to": JobStatus(to).label},
                                   field="status")


def _enqueue(job_id: int) -> None:
    """Hand the job to the queue (after the commit that recorded it, so the worker finds it)."""
    from core.tasks import run_job

    result = run_job.enqueue(job_id)
    Job.objects.filter(pk=job_id).update(task_id=str(result.id)[:64])


def job_start(*, kind: str, params: dict, by: User | None) -> Job:
    """Record a job of `kind` for `by` and queue it; the worker runs it when the transaction commits.

    Raises InvalidInput (400) naming the field for parameters the kind refuses, PermissionDenied when `by`
    may not make the move the job makes.
    """
    job_kind = get_kind(kind)
    person = _actor(by)
    if person is not None and not (person.has_perms(job_kind.permissions)
                                   and (job_kind.may_start is None or job_kind.may_start(person, params))):
        raise PermissionDenied(_("You may not start this job."))
    cleaned = job_kind.clean(dict(params), person)
    with transaction.atomic():
        job = Job.objects.create(kind=job_kind.name, params=cleaned, created_by=person)
        _event(job, from_status="", by=person, reason=_("started"))
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _claim(job_id: int) -> Job | None:
    """Take a queued job for this run; None when it is not queued (another worker has it, or it is over)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        previous = job.status
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "error"])
        # The worker acts on behalf of the person who started the job: the rows it writes name them.
        _event(job, from_status=previous, by=job.created_by,
               reason=_("run %(attempt)s started") % {"attempt": job.attempts})
    return job


def _finish(job: Job, to: str, *, attempt: int, result: dict | None = None, error: str = "") -> bool:
    """End this run's job as `to`; False when the job has moved on without this run (it was resumed)."""
    with transaction.atomic():
        current = Job.objects.select_for_update().filter(pk=job.pk).first()
        if current is None or current.status != JobStatus.RUNNING or current.attempts != attempt:
            return False
        _check(current, to)
        current.status = to
        current.finished_at = timezone.now()
        current.heartbeat_at = current.finished_at
        current.error = error
        current.done, current.skipped = _counts(current)
        if result is not None:
            current.result = {**current.result, **result}
        current.save(update_fields=["status", "finished_at", "heartbeat_at", "error", "done", "skipped", "result"])
        _event(current, from_status=JobStatus.RUNNING, by=current.created_by, reason=error)
        job.refresh_from_db()
    return True


def _counts(job: Job) -> tuple[int, int]:
    counts = JobItem.objects.filter(job=job).aggregate(
        done=Sum("units", filter=Q(outcome=JobItemOutcome.DONE)),
        skipped=Sum("units", filter=Q(outcome=JobItemOutcome.SKIPPED)))
    return counts["done"] or 0, counts["skipped"] or 0


class JobSuperseded(Exception):
    """This run's job was resumed elsewhere (its worker was taken for dead): the run stops writing."""


class _Heartbeat:
    """Refreshes the job's heartbeat (and the progress a long unit reports) from a thread of its own, with its
    own database connection, every JOB_HEARTBEAT seconds while the run lasts: a unit that takes minutes (a
    large import in one transaction) still shows its worker alive, and a killed worker stops it at once."""

    def __init__(self, job: Job, attempt: int) -> None:
        self.job_id = job.pk
        self.attempt = attempt
        self.progress: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT):
                values: dict[str, Any] = {"heartbeat_at": timezone.now()}
                if self.progress is not None:
                    values["done"] = self.progress
                try:
                    Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING,
                                       attempts=self.attempt).update(**values)
                except Exception:  # noqa: BLE001 - a busy database (SQLite's lock) skips one beat
                    logger.debug("heartbeat of job %s skipped", self.job_id, exc_info=True)
        finally:
            connection.close()


@dataclass
class JobContext:
    """What a kind's `run` works with: the job, on whose behalf, and the recording of each unit of work."""

    job: Job
    attempt: int
    heartbeat: _Heartbeat | None = None
    recorded: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (outcome, units), of every run
    skipped_reasons: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recorded = {key: (outcome, units) for key, outcome, units
                         in JobItem.objects.filter(job=self.job).values_list("key", "outcome", "units")}

    @property
    def by(self):
        return self.job.created_by

    @property
    def params(self) -> dict:
        return self.job.params

    def set_total(self, total: int) -> None:
        self.job.total = total
        self._save_progress()

    def progress(self, amount: int) -> None:
        """Progress inside one long unit (rows of an import read): written by the heartbeat, not committed
        with the unit, so that it shows while the unit's transaction is still open."""
        if self.heartbeat is not None:
            self.heartbeat.progress = amount

    def _still_mine(self) -> None:
        if not Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING, attempts=self.attempt).exists():
            raise JobSuperseded(self.job.pk)

    def _save_progress(self) -> None:
        done = sum(units for outcome, units in self.recorded.values() if outcome == JobItemOutcome.DONE)
        skipped = sum(units for outcome, units in self.recorded.values() if outcome == JobItemOutcome.SKIPPED)
        self.job.done, self.job.skipped = done, skipped
        updated = Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING, attempts=self.attempt).update(
            total=self.job.total, done=done, skipped=skipped, heartbeat_at=timezone.now())
        if not updated:
            raise JobSuperseded(self.job.pk)

    def _item(self, key: str, outcome: str, *, units: int, record: models.Model | None = None, label: str = "",
              reason: str = "") -> JobItem:
        return JobItem.objects.create(
            job=self.job, key=key, outcome=outcome, label=label[:200] or (str(record)[:200] if record else ""),
            reason=reason, attempt=self.attempt, units=units,
            object_type=ContentType.objects.get_for_model(record) if record is not None else None,
            object_id=record.pk if record is not None else None)

    def run_item(self, key: str, work: Callable[[], models.Model | None], *, label: str = "",
                 skip_refused: bool = True, units: int = 1) -> str | None:
        """Do one unit of work once: `work()` runs in one transaction with the unit's JobItem.

        Returns the outcome, or None when an earlier run already recorded the unit (nothing is done). A
        refusal of the domain (DomainError) rolls the unit back; with `skip_refused` the unit is recorded as
        skipped with the reason and the job goes on, otherwise the refusal ends the job as failed.
        """
        if key in self.recorded:
            return None
        self._still_mine()
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        item = self._item(key, JobItemOutcome.DONE, label=label, units=units)
                except IntegrityError:
                    other = JobItem.objects.get(job=self.job, key=key)
                    self.recorded[key] = (other.outcome, other.units)
                    return None  # another run of this job recorded it meanwhile
                record = work()
                if record is not None:
                    item.object_type = ContentType.objects.get_for_model(record)
                    item.object_id = record.pk
                    item.label = label[:200] or str(record)[:200]
                    item.save(update_fields=["object_type", "object_id", "label"])
        except DomainError as exc:
            if not skip_refused:
                raise
            try:
                with transaction.atomic():
                    self._item(key, JobItemOutcome.SKIPPED, label=label, reason=exc.message, units=units)
            except IntegrityError:
                return None
            self.recorded[key] = (JobItemOutcome.SKIPPED, units)
            if len(self.skipped_reasons) < RESULT_SKIPPED:
                self.skipped_reasons.append({"key": key, "label": label, "reason": exc.message})
            self._save_progress()
            return JobItemOutcome.SKIPPED
        self.recorded[key] = (JobItemOutcome.DONE, units)
        self._save_progress()
        return JobItemOutcome.DONE

    def each(self, units: Iterable[tuple[str, str, Callable[[], models.Model | None]]]) -> None:
        for key, label, work in units:
            self.run_item(key, work, label=label)


def job_run(*, job_id: int) -> Job | None:
    """Run a queued job (what the worker's task calls): claim it, run its kind, finish it.

    A refusal or an error ends the job as failed with its message; what its units committed stays, each
    recorded, and a resumed run goes on from there. A BaseException that is not an Exception (the process
    being stopped) leaves the job running: its heartbeat stops and `jobs_resume_stalled` takes it up.
    Returns None when the job was not queued (another worker took it, or it is over).
    """
    job = _claim(job_id)
    if job is None:
        return None
    attempt = job.attempts
    try:
        kind = get_kind(job.kind)
        with _Heartbeat(job, attempt) as heartbeat:
            ctx = JobContext(job=job, attempt=attempt, heartbeat=heartbeat)
            summary = kind.run(ctx) or {}
        if ctx.skipped_reasons:
            summary = {**summary, "skipped": ctx.skipped_reasons}
        _finish(job, JobStatus.SUCCEEDED, attempt=attempt, result=summary)
    except JobSuperseded:
        logger.warning("job %s was resumed elsewhere; run %s stops", job.pk, attempt)
    except DomainError as exc:
        _finish(job, JobStatus.FAILED, attempt=attempt, error=exc.message)
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        _finish(job, JobStatus.FAILED, attempt=attempt,
                error=_("Unexpected error (%(error)s); the administrator finds it in the log.")
                % {"error": type(exc).__name__})
    job.refresh_from_db()
    return job


def _requeue(job: Job, *, by: User | None, reason: str) -> Job:
    previous = job.status
    _check(job, JobStatus.QUEUED)
    job.status = JobStatus.QUEUED
    job.finished_at = None
    job.save(update_fields=["status", "finished_at"])
    _event(job, from_status=previous, by=by, reason=reason)
    job_id = job.pk
    transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _stalled(job: Job, now) -> bool:
    return job.status == JobStatus.RUNNING and (job.heartbeat_at is None or job.heartbeat_at < now - _stale_after())


def job_resume(*, job: Job, by: User | None) -> Job:
    """Put a failed job, or a running one whose worker stopped answering, back in the queue.

    Refused (409) for a job still running with a live heartbeat, and for one queued or succeeded.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == JobStatus.RUNNING and not _stalled(job, timezone.now()):
            raise GuardFailed(_("Job #%(id)s is running: its worker gave a sign of life at %(time)s. A job is "
                                "resumed only when its worker has been silent for %(seconds)s seconds.")
                              % {"id": job.pk, "time": timezone.localtime(job.heartbeat_at).strftime("%H:%M:%S"),
                                 "seconds": settings.JOB_STALE_AFTER}, code="job_alive", field="status")
        reason = (_("resumed after its worker stopped answering") if job.status == JobStatus.RUNNING
                  else _("run again after it failed"))
        return _requeue(job, by=by, reason=reason)


def jobs_resume_stalled(*, by: User | None = None, older_than: timedelta | None = None) -> list[Job]:
    """Resume every running job whose heartbeat is older than `older_than` (JOB_STALE_AFTER by default):
    its worker died. Each goes back to the queue with a "resumed" event and runs again from where it was."""
    limit = timezone.now() - (older_than if older_than is not None else _stale_after())
    resumed = []
    candidates = Job.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True)).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=pk)
            if job.status != JobStatus.RUNNING or (job.heartbeat_at is not None and job.heartbeat_at >= limit):
                continue  # it came back to life, or another resume took it
            resumed.append(_requeue(job, by=by, reason=_("resumed: no sign of life from its worker since %(time)s")
                                    % {"time": timezone.localtime(job.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S")
                                       if job.heartbeat_at else "—"}))
    return resumed

