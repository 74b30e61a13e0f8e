"""Reads of the donations app: lists shaped for the API and the admin, and the months without proof."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from donations.models import (
    Beneficiary,
    GrantProject,
    MayoralOrder,
    ObligationRecord,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferItem,
)


def _count(model, **link) -> Subquery:
    """A correlated COUNT of `model` rows pointing at the outer row (two Counts over two joins would
    multiply: 1,000 devices x 150 beneficiaries rows for one project)."""
    rows = model.objects.filter(**{name: OuterRef("pk") for name in link.values()}).order_by()
    return Subquery(rows.values(*link.values()).annotate(n=Count("pk")).values("n"), output_field=IntegerField())


def project_list() -> QuerySet[GrantProject]:
    return GrantProject.objects.select_related("manager").annotate(
        devices_count=Coalesce(_count(ProjectDevice, link="project"), 0),
        beneficiaries_count=Coalesce(_count(Beneficiary, link="project"), 0),
    ).order_by("-starts_on", "name")


def beneficiary_list() -> QuerySet[Beneficiary]:
    return Beneficiary.objects.select_related("project", "recipient")


def order_list() -> QuerySet[MayoralOrder]:
    return MayoralOrder.objects.select_related("project").annotate(
        annex_devices_count=Count("annex_device_rows", distinct=True),
        annex_beneficiaries_count=Count("annex_beneficiary_rows", distinct=True),
    ).order_by("-signed_on", "number")


def transfer_list() -> QuerySet[Transfer]:
    return Transfer.objects.select_related("order", "recipient", "protocol", "decided_by", "created_by").prefetch_related(
        Prefetch("items", queryset=TransferItem.objects.select_related("device").order_by("device__inventory_number")))


@dataclass(frozen=True)
class Gap:
    """A month in which an obligation has no proof for a beneficiary."""

    obligation: ProjectObligation
    beneficiary: Beneficiary
    month: date


def obligation_gaps(*, project: GrantProject | None = None, obligation: ProjectObligation | None = None,
                    until: date | None = None) -> list[Gap]:
    """Every (obligation, beneficiary, month) without a record, up to `until` (today by default).

    Three queries whatever the size: the obligations, the beneficiaries, the recorded triples.
    """
    until = until or timezone.localdate()
    obligations = ProjectObligation.objects.select_related("project").order_by("project_id", "kind", "id")
    if obligation is not None:
        obligations = obligations.filter(pk=obligation.pk)
    if project is not None:
        obligations = obligations.filter(project=project)
    obligations = list(obligations)
    if not obligations:
        return []
    beneficiaries = list(Beneficiary.objects.filter(project_id__in={o.project_id for o in obligations})
                         .select_related("recipient").order_by("code"))
    done = set(ObligationRecord.objects.filter(obligation__in=obligations)
               .values_list("obligation_id", "beneficiary_id", "month"))
    gaps = []
    for item in obligations:
        months = [m for m in item.months() if m <= until]
        for beneficiary in beneficiaries:
            if beneficiary.project_id != item.project_id or (item.applies_to and beneficiary.kind != item.applies_to):
                continue
            gaps.extend(Gap(item, beneficiary, m) for m in months if (item.pk, beneficiary.pk, m) not in done)
    return gaps


def obligation_coverage(obligation: ProjectObligation, *, until: date | None = None) -> list[dict]:
    """Per month of an obligation: how many beneficiaries it applies to and how many have proof."""
    until = until or timezone.localdate()
    applies = Beneficiary.objects.filter(project_id=obligation.project_id)
    if obligation.applies_to:
        applies = applies.filter(kind=obligation.applies_to)
    expected = applies.count()
    recorded = dict(ObligationRecord.objects.filter(obligation=obligation).values_list("month")
                    .annotate(n=Count("id")).values_list("month", "n"))
    return [{"month": m, "expected": expected, "recorded": recorded.get(m, 0)}
            for m in obligation.months() if m <= until]


__all__ = ["project_list", "beneficiary_list", "order_list", "transfer_list", "Gap", "obligation_gaps",
           "obligation_coverage"]
