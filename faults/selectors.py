"""Reads of fault reports, shaped so that a list costs the same few queries at any page size."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from faults.models import FaultReply, FaultReport


def fault_list() -> QuerySet[FaultReport]:
    return FaultReport.objects.select_related("device", "loan__recipient", "reporter", "replacement").prefetch_related(
        Prefetch("replies", queryset=FaultReply.objects.select_related("author")),
    )
