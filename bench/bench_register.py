"""Register and list devices: the service path against raw bulk_create, measured in the same run.

    .venv/bin/python bench/bench_register.py [--devices 2000]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_register.py

Uses a throw-away database (a temporary SQLite file, or a `bench_` database beside the one in
DATABASE_URL), so it never touches real data. Prints one line per figure with its baseline.
"""
from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import Decimal

from throwaway import throwaway_database  # bench/ is on the path of a script run from it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=2000)
    args = parser.parse_args()

    with throwaway_database():
        run(args.devices)


def run(n: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from assets import services
    from assets.models import Device
    from core.roles import Role

    def device_data(prefix: str, i: int) -> dict:
        return {"inventory_number": f"{prefix}/{i:07d}", "kind": "laptop", "manufacturer": "Lenovo",
                "model": "ThinkPad", "serial_number": f"{prefix}{i:09d}", "purchase_date": date(2014, 5, 1),
                "purchase_price": Decimal("2500.00"), "location": "magazyn"}

    start = time.perf_counter()
    Device.objects.bulk_create([Device(**device_data("RAW", i)) for i in range(n)], batch_size=1000)
    raw = time.perf_counter() - start

    start = time.perf_counter()
    for i in range(n):
        services.device_register(by=None, **device_data("SVC", i))
    service = time.perf_counter() - start
    print(f"register {n} devices: service {n / service:,.0f}/s (validation, event, history)"
          f" | baseline raw bulk_create {n / raw:,.0f}/s | ratio {service / raw:.1f}x")

    user = User.objects.create_user("bench", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.AUDITOR))
    client = APIClient()
    client.force_authenticate(user)
    for page_size in (50, 500):
        rounds = 5
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            for _ in range(rounds):
                response = client.get("/api/devices/", {"page_size": page_size})
                assert response.status_code == 200
        api_time = (time.perf_counter() - start) / rounds
        start = time.perf_counter()
        for _ in range(rounds):
            list(Device.objects.order_by("inventory_number").values()[:page_size])
        raw_time = (time.perf_counter() - start) / rounds
        print(f"GET /api/devices/?page_size={page_size}: {api_time * 1000:.1f} ms, "
              f"{len(queries.captured_queries) // rounds} queries | baseline raw values() {raw_time * 1000:.1f} ms")


if __name__ == "__main__":
    main()
