"""The query plans of the main lists on the generated data set: EXPLAIN (ANALYZE, BUFFERS) of every
query each request runs, captured from the real views (API and /verify/), written to
bench/results/explain-1m.txt.

    DATABASE_URL=postgres://helper:helper@127.0.0.1:5433/scale_1m \\
        .venv/bin/python bench/explain_lists.py [--out bench/results/explain-1m.txt]

Needs a PostgreSQL database filled by `manage.py generate_dataset`. Each request is made twice and the
second run is explained, so the plans show a warm cache, as a busy service has.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.loadbench_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.loadbench_data import pick  # noqa: E402


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def index_names(plan: str) -> list[str]:
    return sorted(set(re.findall(r"(?:Index|Index Only) Scan(?: Backward)? using (\S+)", plan)
                      + re.findall(r"Bitmap Index Scan on (\S+)", plan)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "explain-1m.txt"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("explain_lists.py needs PostgreSQL (DATABASE_URL).")
    data = pick()
    staff = Token.objects.get(user_id=data["it_user_id"]).key
    councillor = Token.objects.get(user_id=data["councillor_user_id"]).key
    checks = [
        ("device list (default ordering: inventory number)", "/api/devices/", staff),
        ("device list, page 200", "/api/devices/?page=200", staff),
        ("devices by status (lost, a rare one)", "/api/devices/?status=lost", staff),
        ("devices by status (in use, a common one)", "/api/devices/?status=in_use", staff),
        ("devices by kind", "/api/devices/?kind=tablet", staff),
        ("devices by status and kind", "/api/devices/?status=in_repair&kind=laptop", staff),
        ("devices by location (contains)", "/api/devices/?location=MOPS%2C%20pok.%2017", staff),
        ("devices by contract", f"/api/devices/?contract_id={data['contract_id']}", staff),
        ("q search: inventory number", f"/api/devices/?q={data['inventory_fragment']}", staff),
        ("q search: serial number", f"/api/devices/?q={data['serial']}", staff),
        ("device list ordered by last status change", "/api/devices/?ordering=-status_changed_at", staff),
        ("device detail", f"/api/devices/{data['device_id']}/", staff),
        ("events of a device", f"/api/device-events/?device_id={data['device_id']}", staff),
        ("loans of a recipient, open", f"/api/loans/?recipient_id={data['recipient_id']}&status=open", staff),
        ("a councillor's own loans (as the councillor)", "/api/loans/", councillor),
        ("open loans (status filter)", "/api/loans/?status=open", staff),
        ("document by code (/verify/)", f"/verify/{data['code']}/", None),
    ]
    client = Client()
    out = [f"EXPLAIN (ANALYZE, BUFFERS) of the queries each request runs; {data['devices']:,} devices, "
           f"{data['events']:,} device events; PostgreSQL {connection.pg_version // 10000}.", ""]
    summary = []
    for label, url, token in checks:
        headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        client.get(url, **headers)  # warm
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, **headers)
            elapsed = (time.perf_counter() - started) * 1000
        selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
        out.append("=" * 100)
        out.append(f"{label}: GET {url} -> {response.status_code}, {len(captured.captured_queries)} queries, "
                   f"{elapsed:.1f} ms end to end")
        used, scanned = [], set()
        for sql in selects:
            plan = explain(sql)
            if not re.search(r'FROM "(auth_|django_|authtoken_)', sql):  # the token and permission look-ups
                used += index_names(plan)
                scanned |= set(re.findall(r"Seq Scan on (\w+)", plan))
            out += ["-" * 100, sql, "", plan, ""]
        summary.append((label, response.status_code, len(captured.captured_queries), elapsed,
                        ", ".join(sorted(set(used))) or "—", ", ".join(sorted(scanned)) or "none"))
    head = ["SUMMARY", f"{'request':52s} {'status':>6s} {'queries':>7s} {'ms':>8s}  {'seq scans':24s} indexes used"]
    for label, status, queries, elapsed, used, seq in summary:
        head.append(f"{label:52s} {status:6d} {queries:7d} {elapsed:8.1f}  {seq:24s} {used}")
    text = "\n".join(head + [""] + out)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    print("\n".join(head))
    print(f"\nPlans written to {args.out}")


if __name__ == "__main__":
    main()
