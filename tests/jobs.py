"""Running background jobs in a test the way a worker does: the real `db_worker` loop of django-tasks'
database backend, in this process, until the queue is empty.

The worker's loop closes "old" database connections between tasks; inside a test's transaction that would
close the test's own connection, so that call (and only that) is left out here.
"""
from __future__ import annotations

import pytest


class SimulatedKill(BaseException):
    """What a SIGKILL does to a worker, raised where the test wants it to die: not an Exception, so nothing on
    the way up may handle it as a failure of the job (the job is left running, as a killed worker leaves it)."""


def run_worker(monkeypatch: pytest.MonkeyPatch, *, worker_id: str = "test-worker") -> None:
    """Run every ready task with django-tasks' own worker (claim with SELECT ... FOR UPDATE SKIP LOCKED, run,
    mark the result), then return."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                     max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()
