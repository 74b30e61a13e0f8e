"""The one task the queue runs: a background job (core.jobs). Its record, progress and trail are the Job's;
the task result of django-tasks is only the queue's bookkeeping."""
from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: int) -> dict:
    from core.jobs import job_run

    job = job_run(job_id=job_id)
    return {"job": job_id, "status": job.status if job is not None else "not queued"}
