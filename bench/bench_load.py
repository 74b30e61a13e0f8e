"""Load benchmark: the service under gunicorn (2 workers, DEBUG off) on the generated PostgreSQL data set,
hit on loopback by a load generator of threads with keep-alive connections.

    DATABASE_URL=postgres://helper:helper@127.0.0.1:5433/scale_1m \\
        .venv/bin/python bench/bench_load.py [--seconds 20] [--concurrency 4] [--generate 1000000]

Endpoints: the device list, a filtered device list, a device's detail (random ids), a councillor's loans
(the API as that councillor), /verify/<code>/ (random codes), and the bare view that serves the same
device list page straight from `.values()` (bench/loadbench_urls.py): the floor in the same run. Each
endpoint is loaded in turn for --seconds; any answer that is not 2xx counts as an error and is shown.
Prints per endpoint the requests, throughput and p50/p95/p99 latency, and writes them to
bench/results/load-1m.txt. The machine's cores are shared by PostgreSQL, gunicorn and this generator.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.loadbench_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.loadbench_data import pick  # noqa: E402


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(share * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


class Endpoint:
    def __init__(self, name: str, paths, token: str | None = None) -> None:
        self.name, self.paths, self.token = name, paths, token

    def path(self, rng: random.Random) -> str:
        return self.paths(rng) if callable(self.paths) else self.paths


def load(endpoint: Endpoint, *, port: int, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Accept": "application/json", "Connection": "keep-alive"}
        if endpoint.token:
            headers["Authorization"] = f"Token {endpoint.token}"
        mine, my_errors = [], {}
        while time.monotonic() < deadline:
            path = endpoint.path(rng)
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            mine.append(elapsed)
            if not (isinstance(status, int) and 200 <= status < 300):
                my_errors[status] = my_errors.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for key, count in my_errors.items():
                errors[key] = errors.get(key, 0) + count

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {"name": endpoint.name, "requests": len(latencies), "rps": len(latencies) / wall,
            "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99), "errors": errors}


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.loadbench_settings", PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--worker-class", "sync", "--keep-alive", "30", "--log-level", "warning",
         "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null"],
        cwd=ROOT, env=env)
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/verify/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--generate", type=int, default=0, metavar="DEVICES",
                        help="run generate_dataset with this many devices first (into an empty database)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load-1m.txt"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench_load.py needs PostgreSQL (DATABASE_URL) with the generated data set.")
    if args.generate:
        call_command("generate_dataset", devices=args.generate, yes=True)
    data = pick()
    connection.close()
    top, codes = data["max_device_id"], data["codes"]
    endpoints = [
        Endpoint("bare view: device list page from .values()", "/bench/bare-devices/"),
        Endpoint("device list (API)", "/api/devices/", data["tokens"]["it"]),
        Endpoint("filtered device list (status=on_loan&kind=tablet)", "/api/devices/?status=on_loan&kind=tablet",
                 data["tokens"]["it"]),
        Endpoint("device detail (random ids)", lambda rng: f"/api/devices/{rng.randrange(1, top + 1)}/",
                 data["tokens"]["it"]),
        Endpoint("a councillor's loans (as the councillor)", "/api/loans/", data["tokens"]["councillor"]),
        Endpoint("/verify/<code>/ (random codes)", lambda rng: f"/verify/{rng.choice(codes)}/"),
    ]
    process = start_gunicorn(args.port, args.workers)
    results = []
    try:
        for endpoint in endpoints:  # a short warm-up of each, then the measured run
            load(endpoint, port=args.port, seconds=2, concurrency=args.concurrency)
        for endpoint in endpoints:
            results.append(load(endpoint, port=args.port, seconds=args.seconds, concurrency=args.concurrency))
            print(f"  {results[-1]['name']}: {results[-1]['requests']} requests", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)

    floor = results[0]
    lines = [
        f"Load benchmark: gunicorn {args.workers} sync workers (DEBUG off) on PostgreSQL, {data['devices']:,} devices "
        f"and {data['events']:,} device events; {args.concurrency} keep-alive connections per endpoint for "
        f"{args.seconds:.0f} s each, one endpoint at a time, on loopback.",
        f"The machine's {os.cpu_count()} cores are shared by PostgreSQL, the gunicorn workers and this load generator.",
        "",
        f"{'endpoint':52s} {'requests':>8s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} "
        f"{'x floor p95':>11s}  errors",
    ]
    for r in results:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items(), key=str)) or "0"
        ratio = r["p95"] / floor["p95"] if floor["p95"] else float("nan")
        lines.append(f"{r['name']:52s} {r['requests']:8d} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} "
                     f"{r['p99']:8.1f} {ratio:11.2f}  {errors}")
    device_list = results[1]
    lines += ["", f"Targets: device list p95 {device_list['p95']:.1f} ms (target < 100 ms: "
                  f"{'met' if device_list['p95'] < 100 else 'MISSED'}), "
                  f"{device_list['p95'] / floor['p95']:.2f}x the bare view's p95 (target <= 3x: "
                  f"{'met' if device_list['p95'] <= 3 * floor['p95'] else 'MISSED'})."]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(f"\nWritten to {args.out}")


if __name__ == "__main__":
    main()
