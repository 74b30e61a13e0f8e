"""manage.py import_table: the dry run and its preview on stdout, --apply, refusals as CommandError."""
from __future__ import annotations

import csv
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assets.models import Device, DeviceEvent, StorageMedium
from assets.resources import DeviceResource
from core.choices import ImportStatus
from core.models import ImportBatch
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"
HEADER = list(DeviceResource.Meta.fields)


def device_row(n: int, **overrides) -> dict:
    row = {"inventory_number": f"UM/2024/{n:05d}", "kind": "laptop", "manufacturer": "Dell", "model": "Latitude 5440",
           "serial_number": f"DL{n:07d}", "purchase_date": "2024-03-01", "purchase_price": "4100.00",
           "funding_source": "own_budget", "location": "magazyn", "managed_by": "it_office",
           "expected_life_years": "5", "status": "in_use", "media": f"ssd:512:SSD{n:07d}"}
    row.update(overrides)
    return row


@pytest.fixture
def write_csv(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

    def write(rows: list[dict], *, header: list[str] = HEADER, name: str = "devices.csv") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    with translation.override("en"):
        call_command("import_table", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_dry_run_prints_the_preview_and_writes_nothing(write_csv):
    path = write_csv([device_row(1), device_row(2), device_row(3, media="hdd:500:WD1|ssd:128:")],
                     header=[*HEADER, "colour"])

    out, err = run("devices", str(path))

    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.PREVIEWED and batch.rows_created == 3
    assert f"Import #{batch.pk} of devices.csv" in out
    assert f"SHA-256: {batch.sha256}" in out
    assert "Rows: 3 " in out and "to create 3, to update 0, unchanged 0, invalid 0" in out
    assert "Columns kept: inventory_number, kind, manufacturer" in out
    assert "Columns not kept (they mean nothing to this import): colour" in out
    assert "Column ignored: status: a device's status changes only through its lifecycle" in out
    assert "nothing was written" in out
    assert "\rDry run: 3 rows" in err and "rows/s" in err
    assert not Device.objects.exists() and not StorageMedium.objects.exists() and not DeviceEvent.objects.exists()


def test_apply_writes_the_devices_with_their_media_history_and_events(write_csv):
    path = write_csv([device_row(1), device_row(2, media="hdd:500:WD1|ssd:128:")])

    out, err = run("devices", str(path), "--apply")

    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.APPLIED and batch.decided_by is None
    assert re.search(rf"Applied import #{batch.pk} in [\d.]+ s \(\d+ rows/s\): created 2, updated 0", out)
    assert "\rApplying the import: 2 rows" in err
    assert sorted(Device.objects.values_list("inventory_number", flat=True)) == ["UM/2024/00001", "UM/2024/00002"]
    assert StorageMedium.objects.count() == 3
    assert DeviceEvent.objects.filter(import_batch=batch, actor=None).count() == 2
    assert Device.history.filter(history_type="+").count() == 2


def test_the_user_given_is_the_actor(write_csv):
    clerk = UserFactory(is_superuser=True)
    path = write_csv([device_row(1)])

    run("devices", str(path), "--apply", "--user", clerk.username)

    batch = ImportBatch.objects.get()
    assert batch.created_by == clerk and batch.decided_by == clerk
    assert DeviceEvent.objects.get().actor == clerk
    assert Device.history.get().history_user == clerk


def test_a_user_who_may_not_import_is_refused(write_csv):
    visitor = UserFactory()
    path = write_csv([device_row(1)])

    with pytest.raises(CommandError, match=f"“{visitor.username}” may not import"):
        run("devices", str(path), "--apply", "--user", visitor.username)
    with pytest.raises(CommandError, match="There is no account “nobody”"):
        run("devices", str(path), "--user", "nobody")
    assert not ImportBatch.objects.exists() and not Device.objects.exists()


def test_invalid_rows_without_skip_invalid_stop_the_import(write_csv):
    path = write_csv([device_row(1), device_row(2, kind="toaster"), device_row(3, purchase_price="dużo")])
    stdout = StringIO()

    with pytest.raises(CommandError, match="found 2 invalid rows.*--skip-invalid"):
        with translation.override("en"):
            call_command("import_table", "devices", str(path), "--apply", stdout=stdout, stderr=StringIO())

    out = stdout.getvalue()
    assert "to create 1, to update 0, unchanged 0, invalid 2" in out
    assert "row 3, column kind, value “toaster”: not one of: laptop" in out
    assert "row 4, column purchase_price, value “dużo”:" in out
    assert not Device.objects.exists() and not StorageMedium.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_skip_invalid_applies_the_valid_rows(write_csv):
    path = write_csv([device_row(1), device_row(2, kind="toaster")])

    out, _err = run("devices", str(path), "--apply", "--skip-invalid")

    assert "skipped 1 invalid rows" in out
    assert list(Device.objects.values_list("inventory_number", flat=True)) == ["UM/2024/00001"]


def test_only_the_first_problems_are_printed(write_csv):
    path = write_csv([device_row(n, kind="toaster") for n in range(1, 31)])

    out, _err = run("devices", str(path))

    assert out.count("column kind, value “toaster”") == 20
    assert "… and 10 more" in out


def test_a_pdf_is_refused_with_the_reason(write_csv):
    with pytest.raises(CommandError, match="The file is neither CSV nor XLSX."):
        run("devices", str(SAMPLES / "invoice.pdf"))
    assert not ImportBatch.objects.exists()


def test_the_upload_limit_does_not_apply(write_csv, settings):
    settings.IMPORT_MAX_UPLOAD_SIZE = 100
    path = write_csv([device_row(n) for n in range(1, 11)])

    run("devices", str(path), "--apply")

    assert Device.objects.count() == 10


def test_unknown_table_and_missing_file(write_csv, tmp_path):
    with pytest.raises(CommandError, match="There is no import for “gadgets”"):
        run("gadgets", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("devices", str(tmp_path / "missing.csv"))
