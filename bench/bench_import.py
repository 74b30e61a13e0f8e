"""Import devices with their media from a CSV file: the import engine against raw bulk_create, in one run.

    .venv/bin/python bench/bench_import.py [--rows 100000]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_import.py

Uses a throw-away database (a temporary SQLite file, or a `bench_` database beside the one in
DATABASE_URL), so it never touches real data; the imported files are stored in a temporary directory.

It writes a devices file in the format of the register's export (assets.resources.DeviceResource: one
row per device, one or two storage media each in the `media` cell), a row at a time, and measures:

- the baseline: `bulk_create` of the same devices and media, built from the same values, in one
  transaction (rolled back afterwards, so the import starts from the same empty register);
- the import: `import_preview` (the dry run) and `import_confirm` (the applying run) of the file;
- the peak memory of the dry run (tracemalloc, in runs of their own since tracing slows Python down)
  for files of N/10, N/2 and N rows, which should not grow with the file.

Then it checks what the import wrote: the devices, their media, a history row for each and a
registration event pointing at the import. Prints one line per figure with its baseline, and the targets.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from throwaway import throwaway_database  # bench/ is on the path of a script run from it

# The targets the import is held to.
MIN_ROWS_PER_SECOND = 10_000  # on SQLite
MAX_RATIO = 3.0  # import time / raw bulk_create time
MAX_MEMORY_GROWTH = 1.5  # peak at N rows / peak at N/10 rows

HEADER = ["inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date", "purchase_price",
          "contract", "supplier", "funding_source", "warranty_ends_on", "location", "managed_by", "managing_vendor",
          "expected_life_years", "kit", "status", "notes", "media"]
MODELS = {
    "laptop": [("Dell", "Latitude 5440"), ("Lenovo", "ThinkPad T14 Gen 4"), ("HP", "ProBook 450 G10")],
    "desktop": [("Dell", "OptiPlex 7010"), ("Lenovo", "ThinkCentre M70q"), ("HP", "EliteDesk 800 G9")],
    "tablet": [("Samsung", "Galaxy Tab S9"), ("Lenovo", "Tab M10"), ("Apple", "iPad 10.9")],
    "phone": [("Samsung", "Galaxy A54"), ("Apple", "iPhone 13"), ("Motorola", "moto g84")],
    "monitor": [("Dell", "P2423D"), ("iiyama", "ProLite XUB2493HS"), ("LG", "24MP400")],
    "router": [("TP-Link", "Archer AX55"), ("MikroTik", "hAP ax2"), ("Huawei", "B535")],
}
KINDS = list(MODELS)
LOCATIONS = ["magazyn", "pokój 101", "pokój 204", "sala sesyjna", "Wydział Edukacji", "USC"]
CONTRACTS = 5
CONTRACTS_SIGNED_ON = date(2018, 12, 1)


def device_values(prefix: str, i: int, contracts: list[tuple[str, str, int]]) -> tuple[dict, list[tuple]]:
    """The i-th device of a file, by field name (contract as (number, supplier NIP, id)), and its media.

    Kinds, makers, dates and prices repeat as in an office's inventory; inventory and serial numbers,
    those of the media included, are unique.
    """
    kind = KINDS[i % len(KINDS)]
    manufacturer, model = MODELS[kind][(i // len(KINDS)) % 3]
    purchased = date(2019, 1, 2) + timedelta(days=i % 1800)
    contract = contracts[i % len(contracts)] if i % 3 else None
    values = {
        "inventory_number": f"{prefix}/{i:07d}", "kind": kind, "manufacturer": manufacturer, "model": model,
        "serial_number": f"{prefix}-SN{i:08d}", "purchase_date": purchased,
        "purchase_price": Decimal(1000 + (i * 37) % 4000) + Decimal("0.99"), "contract": contract,
        "funding_source": "" if contract else "own_budget", "warranty_ends_on": purchased + timedelta(days=3 * 365),
        "location": LOCATIONS[i % len(LOCATIONS)], "managed_by": "it_office", "expected_life_years": 5 + i % 3,
        "notes": "po naprawie gwarancyjnej" if i % 50 == 0 else "",
    }
    media = [("ssd", 256 * (1 + i % 4), f"{prefix}-M{i:08d}-1")]
    if i % 2:
        media.append(("hdd", 1000, f"{prefix}-M{i:08d}-2"))
    return values, media


def write_file(path: Path, prefix: str, rows: int, contracts: list[tuple[str, str, int]]) -> int:
    """Write the devices file a row at a time; returns how many media it lists."""
    media_count = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(rows):
            values, media = device_values(prefix, i, contracts)
            media_count += len(media)
            contract = values["contract"]
            writer.writerow([
                values["inventory_number"], values["kind"], values["manufacturer"], values["model"],
                values["serial_number"], values["purchase_date"].isoformat(), f"{values['purchase_price']:.2f}",
                contract[0] if contract else "", contract[1] if contract else "", values["funding_source"],
                values["warranty_ends_on"].isoformat(), values["location"], values["managed_by"], "",
                values["expected_life_years"], "", "in_stock", values["notes"],
                "|".join(f"{kind}:{capacity}:{serial}" for kind, capacity, serial in media),
            ])
    return media_count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    with throwaway_database() as tmp:
        from django.conf import settings
        from django.test.utils import override_settings

        # The imported files on disk, as in a deployment: the test settings keep them in memory, which
        # would count the whole file in the memory figures.
        with override_settings(MEDIA_ROOT=f"{tmp}/media", STORAGES={
                **settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}):
            ok = run(args.rows, tmp)
    if not ok:
        sys.exit(1)


class _Rollback(Exception):
    pass


class Progress:
    """Rows done and the rate so far, on one line of stderr: a run that stalls shows where."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()

    def __call__(self, rows: int) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"\r  {self.label}: {rows:,} rows, {rows / elapsed:,.0f} rows/s, {elapsed:.0f} s", end="",
              file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


def run(n: int, tmp: Path) -> bool:
    from django.db import connection, transaction

    from assets import services
    from assets.models import Contract, Device, DeviceEvent, StorageMedium
    from core.imports import import_confirm, import_preview
    from core.models import ImportRow

    vendor = connection.vendor
    supplier = services.supplier_create(by=None, name="Komputronik Biznes Sp. z o.o.", nip="9720902729",
                                        address="ul. Wołczyńska 37, 60-003 Poznań")
    contracts = []
    for k in range(CONTRACTS):
        contract = services.contract_create(by=None, number=f"ZP/{k + 1}/2018", supplier=supplier,
                                            signed_on=CONTRACTS_SIGNED_ON, value=Decimal("1000000.00"),
                                            funding_source="own_budget")
        contracts.append((contract.number, supplier.nip, contract.pk))

    # -- the file --
    path = tmp / "devices.csv"
    start = time.perf_counter()
    media_total = write_file(path, "IMP", n, contracts)
    print(f"file: {n:,} devices, {media_total:,} media, {path.stat().st_size / 2**20:.1f} MiB, "
          f"written in {time.perf_counter() - start:.1f} s", flush=True)

    # -- the baseline: bulk_create of the same devices and media, rolled back --
    device_fields = ("inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                     "purchase_price", "funding_source", "warranty_ends_on", "location", "managed_by",
                     "expected_life_years", "notes")
    start = time.perf_counter()
    try:
        with transaction.atomic():
            for first in range(0, n, 2000):
                rows = [device_values("RAW", i, contracts) for i in range(first, min(first + 2000, n))]
                devices = Device.objects.bulk_create([
                    Device(**{name: values[name] for name in device_fields},
                           contract_id=values["contract"][2] if values["contract"] else None)
                    for values, _media in rows])
                StorageMedium.objects.bulk_create([
                    StorageMedium(device_id=device.pk, kind=kind, capacity_gb=capacity, serial_number=serial)
                    for device, (_values, media) in zip(devices, rows) for kind, capacity, serial in media])
            raw = time.perf_counter() - start
            raw_written = (Device.objects.count(), StorageMedium.objects.count())
            raise _Rollback
    except _Rollback:
        pass
    assert raw_written == (n, media_total), raw_written
    if vendor == "postgresql":
        # Leave no dead rows nor statistics of them behind: the import starts from an empty register, as
        # the baseline did. (An ANALYZE that sees only the dead rows records the tables as empty however
        # large they grow, and the import's queries then get nested-loop plans.)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE assets_device, assets_storagemedium")
    print(f"baseline: raw bulk_create of {n:,} devices and {media_total:,} media: {raw:.1f} s, "
          f"{n / raw:,.0f} rows/s", flush=True)

    # -- the import: the dry run, then the applying run --
    with path.open("rb") as file:
        start = time.perf_counter()
        progress = Progress("import_preview")
        batch = import_preview(table="devices", file=file, file_name=path.name, by=None, check_size=False,
                               progress=progress)
        preview = time.perf_counter() - start
        progress.close()
    assert batch.rows_created == n and batch.rows_invalid == 0, (batch.rows_created, batch.preview.get("errors"))
    start = time.perf_counter()
    progress = Progress("import_confirm")
    batch = import_confirm(batch=batch, by=None, sha256=batch.sha256, progress=progress)
    confirm = time.perf_counter() - start
    progress.close()

    def figure(name: str, seconds: float) -> str:
        return (f"{name}: {seconds:.1f} s, {n / seconds:,.0f} rows/s | baseline raw bulk_create {raw:.1f} s, "
                f"{n / raw:,.0f} rows/s | ratio {seconds / raw:.1f}x")

    print(figure("import_preview (dry run, rolled back)", preview))
    print(figure("import_confirm (applied)", confirm))
    print(figure("preview + confirm", preview + confirm), flush=True)

    # -- peak memory of the dry run, by file size --
    peaks = {}
    sizes = sorted({max(1, n // 10), max(1, n // 2), n})
    for label, rows in [("warm-up", min(2000, n)), *((f"M{k}", rows) for k, rows in enumerate(sizes))]:
        memory_path = tmp / f"memory-{label}.csv"
        write_file(memory_path, label, rows, contracts)
        with memory_path.open("rb") as file:
            tracemalloc.start()
            import_preview(table="devices", file=file, file_name=memory_path.name, by=None, check_size=False)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        memory_path.unlink()
        if label != "warm-up":
            peaks[rows] = peak
    smallest, largest = peaks[sizes[0]], peaks[sizes[-1]]
    print("peak memory of import_preview (tracemalloc): " + " | ".join(
        f"{rows:,} rows {peak / 2**20:.1f} MiB" for rows, peak in peaks.items())
        + f" | baseline {sizes[0]:,} rows | ratio {largest / smallest:.2f}x", flush=True)

    # -- the targets --
    def verdict(holds: bool) -> str:
        return "yes" if holds else "NO"

    for name, seconds in (("import_preview", preview), ("import_confirm", confirm)):
        rate = n / seconds
        speed = (f"{rate:,.0f} rows/s >= {MIN_ROWS_PER_SECOND:,}: {verdict(rate >= MIN_ROWS_PER_SECOND)}"
                 if vendor == "sqlite" else f"{rate:,.0f} rows/s (the {MIN_ROWS_PER_SECOND:,} rows/s target is "
                                            "for SQLite)")
        print(f"target {name}: {speed}; {seconds / raw:.1f}x raw <= {MAX_RATIO:.0f}x: "
              f"{verdict(seconds / raw <= MAX_RATIO)}")
    print(f"target memory flat: peak at {sizes[-1]:,} rows is {largest / smallest:.2f}x the peak at "
          f"{sizes[0]:,} rows <= {MAX_MEMORY_GROWTH}x: {verdict(largest / smallest <= MAX_MEMORY_GROWTH)}")

    # -- what the import wrote --
    imported = Device.objects.filter(inventory_number__startswith="IMP/")
    checks = [
        ("devices", imported.count(), n),
        ("their media", StorageMedium.objects.filter(device__inventory_number__startswith="IMP/").count(),
         media_total),
        ("device history rows (+)", Device.history.filter(inventory_number__startswith="IMP/",
                                                          history_type="+").count(), n),
        ("media history rows (+)", StorageMedium.history.filter(serial_number__startswith="IMP-",
                                                                history_type="+").count(), media_total),
        ("registration events naming the import", DeviceEvent.objects.filter(
            import_batch=batch, from_status="", to_status="in_stock").count(), n),
        ("import rows recorded", ImportRow.objects.filter(batch=batch).count(), n),
        ("devices with a contract", imported.filter(contract__isnull=False).count(), n - len(range(0, n, 3))),
        ("devices in the register (the dry runs and the baseline rolled back)", Device.objects.count(), n),
        ("contracts", Contract.objects.count(), CONTRACTS),
    ]
    ok = all(found == expected for _name, found, expected in checks)
    print("correctness: " + "; ".join(
        f"{name} {found:,}" + ("" if found == expected else f" (expected {expected:,})")
        for name, found, expected in checks) + f": {'ok' if ok else 'FAILED'}")
    return ok


if __name__ == "__main__":
    main()
