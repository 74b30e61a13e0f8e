"""Reads of the donations app: lists shaped for the API and the admin, and the months without proof."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from donations.choices import TRANSFER_ORDER_KINDS, TransferStatus
from donations.models import (
    Beneficiary,
    GrantProject,
    LiquidationItem,
    MayoralOrder,
    ObligationRecord,
    OrderAnnexBeneficiary,
    OrderAnnexDevice,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferItem,
)
from loans.models import LoanItem


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


def transfer_order_in_force() -> Q:
    """For a Transfer queryset: its order is in force on the transfer date (MayoralOrder.in_force_on, the
    legal check's ORDER_IN_FORCE)."""
    return (Q(order__in_force_from__lte=F("transfer_date"))
            & (Q(order__in_force_until__isnull=True) | Q(order__in_force_until__gte=F("transfer_date"))))


def transfer_order_kind_allowed() -> Q:
    """For a Transfer queryset: its order is of a kind that allows a free transfer (ORDER_KIND)."""
    return Q(order__kind__in=TRANSFER_ORDER_KINDS)


def transfer_item_in_annex() -> Q:
    """For a TransferItem queryset: the legal check's IN_ANNEX (donations.legal.check_devices) for a whole
    register. The device is in the annex of the transfer's order; or the recipient's beneficiary is, and the
    recipient holds the device: on an open loan item, or, once the transfer is completed, on the item its
    completion closed on the transfer date (loans.services.loan_items_transfer)."""
    device_listed = Exists(OrderAnnexDevice.objects.filter(order=OuterRef("transfer__order"),
                                                           device=OuterRef("device")))
    beneficiary_listed = Exists(OrderAnnexBeneficiary.objects.filter(
        order=OuterRef("transfer__order"), beneficiary__recipient=OuterRef("transfer__recipient")))
    held = LoanItem.objects.filter(device=OuterRef("device"), loan__recipient=OuterRef("transfer__recipient"))
    holds_now = Exists(held.filter(is_open=True))
    held_until_completed = Q(transfer__status=TransferStatus.COMPLETED) & Exists(
        held.filter(is_open=False, closed_on=OuterRef("transfer__transfer_date")))
    return Q(device_listed) | (Q(beneficiary_listed) & (Q(holds_now) | held_until_completed))


def transfers_within_durability() -> QuerySet[TransferItem]:
    """Devices of grant projects given away by a completed transfer dated within their project's durability
    period: on or before its last day (GrantProject.durability_over_on, the legal check's DURABILITY_OVER)."""
    return TransferItem.objects.filter(
        transfer__status=TransferStatus.COMPLETED,
        device__project_device__project__durability_ends_on__gte=F("transfer__transfer_date"))


def liquidations_within_durability() -> QuerySet[LiquidationItem]:
    """Devices of grant projects scrapped within their project's durability period."""
    return LiquidationItem.objects.filter(
        device__project_device__project__durability_ends_on__gte=F("liquidation__handed_over_on"))


__all__ = ["project_list", "beneficiary_list", "order_list", "transfer_list", "Gap", "obligation_gaps",
           "obligation_coverage", "transfer_order_in_force", "transfer_order_kind_allowed", "transfer_item_in_annex",
           "transfers_within_durability", "liquidations_within_durability"]
