"""manage.py compliance_check: the summary and each gap, or JSON; exit code 1 with --fail-on-gaps (a nightly cron)."""
from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assets import services as asset_services
from reports.compliance import GapKind
from tests.factories import lend_tablet, make_councillor, make_device

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("compliance_check", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def overdue():
    return lend_tablet(make_councillor("Ewa Radna"), planned_end_on=date(2020, 5, 1))


def test_prints_the_summary_then_each_gap_with_its_record_problem_and_fix(overdue):
    output = run("--language", "en")
    assert "a fault is open too long after 30 days, a removed disk must be destroyed within 90 days" in output
    assert "loan past its planned end" in output and "1 gap in all." in output
    assert f"[loan past its planned end] Loan {overdue.pk} to Ewa Radna (http://testserver/admin/loans/loan/" \
           f"{overdue.pk}/change/)" in output
    assert "  Problem: Loan" in output and "was to end on 01.05.2020" in output
    assert "  Fix: Take the devices back from the councillor" in output
    assert "  Since: 02.05.2020" in output
    with translation.override("en"):
        for kind in GapKind:
            assert str(kind.label) in output  # every kind in the summary, zeros included


def test_writes_in_the_offices_language_by_default(overdue):
    output = run()
    assert "Kontrola zgodności z" in output
    assert "użyczenie po planowanym terminie zakończenia" in output
    assert "Razem 1 nieprawidłowość." in output


def test_json_for_a_program(overdue, it_user):
    device = make_device(purchase_date=date(2009, 3, 1))
    asset_services.device_put_in_use(device=device, by=it_user)
    report = json.loads(run("--json", "--kind", GapKind.LOAN_OVERDUE, GapKind.PAST_EXPECTED_LIFE,
                            "--fault-open-days", "7"))
    assert [row["kind"] for row in report["summary"]] == [GapKind.LOAN_OVERDUE, GapKind.PAST_EXPECTED_LIFE]
    assert report["total"] == 2
    assert [gap["record"]["label"] for gap in report["gaps"]][1] == device.inventory_number
    assert report["parameters"]["fault_open_days"] == 7
    assert report["gaps"][0]["since"] == "2020-05-02"


def test_fail_on_gaps_exits_with_1_when_a_gap_is_found(overdue):
    with pytest.raises(SystemExit) as exited:
        run("--fail-on-gaps")
    assert exited.value.code == 1
    assert "0 gaps in all." in run("--fail-on-gaps", "--kind", GapKind.DISK_NOT_DESTROYED, "--language", "en")


@pytest.mark.parametrize("args, option", [
    (("--kind", "loans"), "--kind"),
    (("--fault-open-days", "-3"), "--fault-open-days"),
    (("--disk-destroy-days", "-1"), "--disk-destroy-days"),
])
def test_a_bad_option_is_refused_naming_it(args, option):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert str(refused.value).startswith(option)
    assert refused.value.returncode == 2
