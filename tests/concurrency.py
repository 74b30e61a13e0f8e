"""Racing several attempts at the same move, each in its own thread and database connection.

On PostgreSQL this is a real race on row locks. On SQLite (transaction_mode IMMEDIATE) a writing transaction
takes the database lock at its start; the in-memory test database (shared cache) answers "database table is
locked" at once instead of waiting as a file database would (busy timeout), so the attempt is tried again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError, connection


def waiting_for_sqlite(call: Callable[[], object], *, seconds: float = 60) -> object:
    """Run `call`; on SQLite's shared-cache "locked" refusal, wait and run it again (what the busy timeout
    does for a file database). Never on PostgreSQL, where a lock is waited for by the server."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def race(attempts: list[Callable[[], Callable[[], object]]]) -> list[object]:
    """Run each attempt in its own thread and connection, all released at once by a barrier.

    An attempt is a function that reads what it needs (in its own connection) and returns the move to make;
    the outcome of each is what the move returned, or the exception that refused it."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[object] = [None] * len(attempts)

    def run(index: int) -> None:
        try:
            move = attempts[index]()
            barrier.wait(timeout=30)
            outcomes[index] = waiting_for_sqlite(move)
        except Exception as exc:  # noqa: BLE001 - the test reads which kind it was
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "an attempt is still waiting"
    return outcomes
