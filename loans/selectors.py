"""Reads of loans, shaped so that a list costs the same few queries at any page size."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from core.choices import DocumentKind
from core.models import StoredDocument
from loans.choices import LoanStatus
from loans.models import CouncilTerm, Loan, LoanFinding, LoanItem, Recipient


def loan_list() -> QuerySet[Loan]:
    return Loan.objects.select_related("recipient", "council_term", "kit").prefetch_related(
        Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
        "accessories", "setup_steps", "findings",
        Prefetch("documents", queryset=StoredDocument.objects.order_by("issued_at", "id")),
    )


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.select_related("user").order_by("name", "id")


def council_term_list() -> QuerySet[CouncilTerm]:
    return CouncilTerm.objects.order_by("-starts_on", "id")


def finding_list() -> QuerySet[LoanFinding]:
    return LoanFinding.objects.select_related("loan__recipient", "settled_by")


def held_loans(user) -> QuerySet[Loan]:
    """The loans of the recipient whose user account this is (a councillor's own loans)."""
    return Loan.objects.filter(recipient__user=user)


def register_holder_scopes() -> None:
    """What a borrower with a user account sees without any role: their loans, the devices they hold
    now, and the documents issued for their loans (see core.scoping)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from assets.models import Device
    from core.models import StoredDocument
    from core.scoping import register_holder_scope

    register_holder_scope(Loan, lambda user: Q(recipient__user=user))
    register_holder_scope(Device, lambda user: Q(pk__in=LoanItem.objects.filter(
        is_open=True, loan__recipient__user=user).values("device_id")))
    register_holder_scope(StoredDocument, lambda user: Q(
        subject_type=ContentType.objects.get_for_model(Loan), subject_id__in=held_loans(user).values("pk")))


def loans_ending_or_overdue(*, within_days: int, today=None) -> QuerySet[Loan]:
    """Open loans whose planned end is at most `within_days` days from today, the overdue ones included.

    One query for the loans (with recipient and user) and one for the devices they hold, at any count;
    each loan's held devices are in `held_items`, by inventory number. Soonest (most overdue) first.
    """
    today = today or timezone.localdate()
    held = LoanItem.objects.filter(is_open=True).select_related("device").order_by("device__inventory_number")
    return (
        Loan.objects.filter(status=LoanStatus.OPEN, planned_end_on__lte=today + timedelta(days=within_days))
        .select_related("recipient__user")
        .prefetch_related(Prefetch("items", queryset=held, to_attr="held_items"))
        .order_by("planned_end_on", "id")
    )


def loan_has_agreement():
    """For a Loan queryset: the loan agreement was issued for it (a stored document of kind loan_agreement
    whose subject is the loan, as loans.documents.loan_agreement_issue stores it)."""
    return Exists(StoredDocument.objects.filter(kind=DocumentKind.LOAN_AGREEMENT, subject_type__app_label="loans",
                                                subject_type__model="loan", subject_id=OuterRef("pk")))


def overdue_loans(*, today) -> QuerySet[Loan]:
    """Open loans whose planned end is before `today` (Loan.is_overdue, for a whole register)."""
    return Loan.objects.filter(status=LoanStatus.OPEN, planned_end_on__lt=today)
