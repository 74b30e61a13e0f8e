"""Reads of loans, shaped so that a list costs the same few queries at any page size."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from loans.models import CouncilTerm, Loan, LoanFinding, LoanItem, Recipient


def loan_list() -> QuerySet[Loan]:
    return Loan.objects.select_related("recipient", "council_term", "kit").prefetch_related(
        Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
        "accessories", "setup_steps", "findings",
    )


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.select_related("user").order_by("name", "id")


def council_term_list() -> QuerySet[CouncilTerm]:
    return CouncilTerm.objects.order_by("-starts_on", "id")


def finding_list() -> QuerySet[LoanFinding]:
    return LoanFinding.objects.select_related("loan__recipient", "settled_by")
