"""Reads of fault reports, shaped so that a list costs the same few queries at any page size."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from faults.choices import FAULT_CLOSED, FaultStatus
from faults.models import FaultReply, FaultReport


def fault_list() -> QuerySet[FaultReport]:
    return FaultReport.objects.select_related("device", "loan__recipient", "reporter", "replacement").prefetch_related(
        Prefetch("replies", queryset=FaultReply.objects.select_related("author")),
    )


def open_faults() -> QuerySet[FaultReport]:
    """Faults not closed yet (neither resolved, replaced nor rejected: faults.choices.FAULT_CLOSED)."""
    return FaultReport.objects.filter(status__in=[s for s in FaultStatus.values if s not in FAULT_CLOSED])
