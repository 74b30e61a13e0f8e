"""Reads of the portal: only what the signed-in person holds (core.scoping.held_by), whatever their role."""
from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from assets.models import Device
from core.models import StoredDocument
from core.scoping import held_by
from faults.choices import FAULT_CLOSED
from faults.models import FaultReply, FaultReport
from loans.models import Loan, LoanItem


def my_loans(user) -> QuerySet[Loan]:
    return held_by(user, Loan.objects.all()).select_related("council_term", "kit").prefetch_related(
        Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
        "accessories", "setup_steps",
    )


def my_devices(user) -> QuerySet[Device]:
    return held_by(user, Device.objects.all()).order_by("kind", "inventory_number")


def my_faults(user) -> QuerySet[FaultReport]:
    return held_by(user, FaultReport.objects.all()).select_related("device", "replacement").prefetch_related(
        Prefetch("replies", queryset=FaultReply.objects.select_related("author")), "events")


def my_open_faults(user) -> QuerySet[FaultReport]:
    """The person's fault reports the IT office has not closed yet (new, acknowledged, in progress)."""
    return my_faults(user).exclude(status__in=FAULT_CLOSED)


def my_closed_faults(user) -> QuerySet[FaultReport]:
    return my_faults(user).filter(status__in=FAULT_CLOSED)


def my_documents(user) -> QuerySet[StoredDocument]:
    return held_by(user, StoredDocument.objects.all()).order_by("-issued_at", "-id")


def loan_documents(loan: Loan) -> QuerySet[StoredDocument]:
    return StoredDocument.objects.filter(subject_type=ContentType.objects.get_for_model(Loan),
                                         subject_id=loan.pk).order_by("issued_at", "id")
