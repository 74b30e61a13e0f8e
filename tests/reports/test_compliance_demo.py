"""The compliance check on the demo data: only the gaps the demo was built to show, each for its reason.

The demo (loaded once for this module, through the services, and rolled back at the end) tells two stories as
their sources date them, and the check reads them as of today:

- Kielce, 2020: 25 councillors hold eSesja tablets on loans tied to the 2018–2023 term, whose end the statute of
  2022 moved to 30.04.2024. The demo stops there: the term is over and the tablets (five years of expected life,
  bought 14.04.2020) have not come back. The check says so: 25 overdue loans and 25 tablets past their life,
  meant, each with "take the devices back" as its fix.
- Leszno, 2013–2021: the e-Inclusion sets stay with their 152 beneficiaries after the durability period
  (31.03.2021); the demo stops at the order of free transfer, so that the visitor makes the transfers. Every
  beneficiary's loan is overdue and every set (ten years of life, bought 2013–2014) is past its life, meant: the
  fix names the transfer, and making it removes both gaps (the last test). The office computers the demo keeps
  at their desks past ten years (the rest it retired, wiped or sent to repair) are past their life, meant: they
  are what the end-of-life path is about.

Nothing else: every loan has its agreement, no device left the office, the one fault (in progress) and the disk
held in the safe were recorded at load time, every issued document is intact. No demo data had to be corrected.
"""
from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from assets.choices import DeviceStatus
from assets.models import Device
from donations import services as donation_services
from donations.models import Beneficiary, MayoralOrder
from loans.choices import LoanPurpose, LoanStatus
from loans.models import Loan
from reports.compliance import GapKind, run_check

pytestmark = pytest.mark.django_db

MEANT = {GapKind.LOAN_OVERDUE, GapKind.PAST_EXPECTED_LIFE}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            call_command("load_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def _found(report, kind) -> set[int]:
    return {gap.record.id for gap in report.gaps if gap.kind == kind}


def _expected_overdue_loans() -> set[int]:
    """The councillors' loans of the term that ended on 30.04.2024, and the e-Inclusion beneficiaries' loans
    that ended with the durability period."""
    councillors = Loan.objects.filter(status=LoanStatus.OPEN, purpose=LoanPurpose.COUNCIL_SESSIONS,
                                      council_term__name="kadencja 2018–2023", planned_end_on=date(2024, 4, 30))
    beneficiaries = Loan.objects.filter(status=LoanStatus.OPEN, purpose=LoanPurpose.GRANT_PROJECT,
                                        recipient__beneficiary__project__durability_ends_on=date(2021, 3, 31),
                                        planned_end_on=date(2021, 3, 31))
    return set(councillors.values_list("pk", flat=True)) | set(beneficiaries.values_list("pk", flat=True))


def _expected_past_life() -> set[int]:
    """The devices held under those loans, and the office computers still at their desks."""
    held = Device.objects.filter(loan_items__is_open=True, loan_items__loan__in=_expected_overdue_loans())
    at_desks = Device.objects.filter(status=DeviceStatus.IN_USE, inventory_number__startswith="UML/201")
    return set(held.values_list("pk", flat=True)) | set(at_desks.values_list("pk", flat=True))


def test_the_demo_shows_only_the_gaps_it_was_built_to_show(demo):
    report = run_check()
    assert {kind for kind, count in report.counts.items() if count} == MEANT, report.counts

    loans = _found(report, GapKind.LOAN_OVERDUE)
    assert loans == _expected_overdue_loans()
    assert len(loans) == 25 + Beneficiary.objects.count()  # every councillor, every beneficiary

    devices = _found(report, GapKind.PAST_EXPECTED_LIFE)
    assert devices == _expected_past_life()
    today = timezone.localdate()
    for device in Device.objects.filter(pk__in=devices):
        assert device.age_years(today) >= device.expected_life_years  # what retiring "past its life" requires
    office = Device.objects.filter(pk__in=devices, inventory_number__startswith="UML/201")
    assert sorted(office.values_list("inventory_number", flat=True)) == [
        "UML/2011/KOMP/002", "UML/2011/KOMP/004", "UML/2012/KOMP/002", "UML/2012/KOMP/004"]


def test_each_meant_gap_says_what_the_office_does_next(demo):
    report = run_check(kinds=[GapKind.LOAN_OVERDUE])
    fixes = {}
    for gap in report.gaps:
        purpose = Loan.objects.values_list("purpose", flat=True).get(pk=gap.record.id)
        fixes.setdefault(purpose, set()).add(gap.fix)
    assert fixes.keys() == {LoanPurpose.COUNCIL_SESSIONS, LoanPurpose.GRANT_PROJECT}
    assert all(len(texts) == 1 for texts in fixes.values())
    assert "radnego" in next(iter(fixes[LoanPurpose.COUNCIL_SESSIONS]))
    assert "nieodpłatne przekazanie zestawu beneficjentowi" in next(iter(fixes[LoanPurpose.GRANT_PROJECT]))


def test_the_visitors_transfer_of_a_households_set_removes_its_gaps_and_adds_none(demo):
    """The demo leaves the transfers to the visitor: two households' sets handed over under the order, through
    the services, by the demo's legal office and IT office; their loans and devices are no longer gaps, and
    the transfers (covered, after the durability period, under the beneficiary exception) are none."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["prawnik", "informatyk"])}
    order = MayoralOrder.objects.get(number="212/2021")
    before = run_check()
    households = list(order.annex_beneficiary_rows.select_related("beneficiary__recipient")
                      .order_by("beneficiary__code")[:2])
    handed = set()
    for row in households:
        recipient = row.beneficiary.recipient
        loan = Loan.objects.get(recipient=recipient, status=LoanStatus.OPEN)
        transfer = donation_services.transfer_create(order=order, recipient=recipient, transfer_date=date(2021, 7, 1),
                                                     by=users["informatyk"], kits=[loan.kit])
        donation_services.transfer_submit(transfer=transfer, by=users["informatyk"])
        donation_services.transfer_approve(transfer=transfer, by=users["prawnik"])
        donation_services.transfer_complete(transfer=transfer, by=users["informatyk"])
        handed.add(loan.pk)
    after = run_check()
    assert _found(after, GapKind.LOAN_OVERDUE) == _found(before, GapKind.LOAN_OVERDUE) - handed
    gone = set(Device.objects.filter(status=DeviceStatus.TRANSFERRED).values_list("pk", flat=True))
    assert len(gone) == 6  # two sets of a computer, a monitor and a router
    assert _found(after, GapKind.PAST_EXPECTED_LIFE) == _found(before, GapKind.PAST_EXPECTED_LIFE) - gone
    assert {kind for kind, count in after.counts.items() if count} == MEANT
