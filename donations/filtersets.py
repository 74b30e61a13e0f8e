"""Filters of the donations lists (grant projects, beneficiaries, obligations, orders, transfers, offers,
scrapping), shared by the API (django-filter)."""
from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.choices import DeviceKind
from assets.filtersets import SearchFilterSet
from assets.models import Device
from core.filters import IdsFilter
from donations.choices import BeneficiaryKind, DonationStatus, LegalSource, ObligationKind, OrderKind, TransferStatus
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    MayoralOrder,
    ObligationRecord,
    ProjectObligation,
    Transfer,
)
from loans.models import Recipient


class DistinctSearchFilterSet(SearchFilterSet):
    """A `q` search across a to-many relation: each record once."""

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()


class GrantProjectFilterSet(SearchFilterSet):
    search_fields = ("name", "programme", "agreement_number")
    manager_id = IdsFilter(field_name="manager", queryset=get_user_model().objects.all())
    durability_ends_on = django_filters.DateFromToRangeFilter()
    durability_over = django_filters.BooleanFilter(method="filter_durability_over",
                                                   label=_("Durability period over"))

    class Meta:
        model = GrantProject
        fields = ["manager_id", "durability_ends_on", "durability_over"]

    def filter_durability_over(self, queryset, name, value):
        over = Q(durability_ends_on__lt=timezone.localdate())
        return queryset.filter(over) if value else queryset.exclude(over)


class BeneficiaryFilterSet(SearchFilterSet):
    search_fields = ("code", "recipient__name", "recipient__address", "eligibility_reference")
    project_id = IdsFilter(field_name="project", queryset=GrantProject.objects.all())
    kind = django_filters.MultipleChoiceFilter(choices=BeneficiaryKind.choices)

    class Meta:
        model = Beneficiary
        fields = ["project_id", "kind", "is_active", "code"]


class ProjectObligationFilterSet(SearchFilterSet):
    search_fields = ("description",)
    project_id = IdsFilter(field_name="project", queryset=GrantProject.objects.all())
    kind = django_filters.MultipleChoiceFilter(choices=ObligationKind.choices)
    applies_to = django_filters.MultipleChoiceFilter(choices=BeneficiaryKind.choices)

    class Meta:
        model = ProjectObligation
        fields = ["project_id", "kind", "applies_to"]


class ObligationRecordFilterSet(SearchFilterSet):
    search_fields = ("proof_reference", "note", "beneficiary__code")
    obligation_id = IdsFilter(field_name="obligation",
                             queryset=ProjectObligation.objects.all())
    beneficiary_id = IdsFilter(field_name="beneficiary",
                              queryset=Beneficiary.objects.all())
    project_id = IdsFilter(field_name="obligation__project",
                          queryset=GrantProject.objects.all())
    kind = django_filters.MultipleChoiceFilter(field_name="obligation__kind", choices=ObligationKind.choices)
    month = django_filters.DateFromToRangeFilter()

    class Meta:
        model = ObligationRecord
        fields = ["obligation_id", "beneficiary_id", "project_id", "kind", "month"]


class MayoralOrderFilterSet(SearchFilterSet):
    search_fields = ("number", "title", "signatory", "legal_basis")
    kind = django_filters.MultipleChoiceFilter(choices=OrderKind.choices)
    project_id = IdsFilter(field_name="project", queryset=GrantProject.objects.all())
    signed_on = django_filters.DateFromToRangeFilter()
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label=_("In force on"))
    device_id = IdsFilter(field_name="annex_device_rows__device",
                         queryset=Device.objects.all(), distinct=True,
                         label=_("Lists the device in its annex"))
    beneficiary_id = IdsFilter(field_name="annex_beneficiary_rows__beneficiary",
                              queryset=Beneficiary.objects.all(), distinct=True,
                              label=_("Lists the beneficiary in its annex"))

    class Meta:
        model = MayoralOrder
        fields = ["number", "kind", "project_id", "signed_on", "in_force_on", "device_id", "beneficiary_id"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.filter(Q(in_force_until__isnull=True) | Q(in_force_until__gte=value), in_force_from__lte=value)


class TransferFilterSet(DistinctSearchFilterSet):
    search_fields = ("number", "recipient__name", "order__number", "items__device__inventory_number", "notes")
    status = django_filters.MultipleChoiceFilter(choices=TransferStatus.choices)
    order_id = IdsFilter(field_name="order", queryset=MayoralOrder.objects.all())
    recipient_id = IdsFilter(field_name="recipient", queryset=Recipient.objects.all())
    project_id = IdsFilter(
        field_name="items__device__project_device__project", queryset=GrantProject.objects.all(), distinct=True,
        label=_("Transfers devices of the project"))
    device_id = IdsFilter(field_name="items__device", queryset=Device.objects.all(),
                         distinct=True)
    transfer_date = django_filters.DateFromToRangeFilter()
    overridden = django_filters.BooleanFilter(method="filter_overridden",
                                              label=_("Approved with a reasoned override"))

    class Meta:
        model = Transfer
        fields = ["number", "status", "order_id", "recipient_id", "project_id", "device_id", "transfer_date",
                  "overridden"]

    def filter_overridden(self, queryset, name, value):
        return queryset.exclude(override_reason="") if value else queryset.filter(override_reason="")


class DonationOfferFilterSet(SearchFilterSet):
    search_fields = ("donor_name", "manufacturer", "model", "serial_number", "legal_source_reference")
    status = django_filters.MultipleChoiceFilter(choices=DonationStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=DeviceKind.choices)
    legal_source = django_filters.MultipleChoiceFilter(choices=LegalSource.choices)
    offered_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = DonationOffer
        fields = ["status", "kind", "legal_source", "offered_on", "free_of_charge_declared"]


class LiquidationFilterSet(DistinctSearchFilterSet):
    search_fields = ("number", "collector_name", "collector_bdo", "kpo_number", "items__device__inventory_number")
    order_id = IdsFilter(field_name="order", queryset=MayoralOrder.objects.all())
    device_id = IdsFilter(field_name="items__device", queryset=Device.objects.all(),
                         distinct=True)
    handed_over_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Liquidation
        fields = ["number", "order_id", "device_id", "handed_over_on", "waste_code", "collector_bdo"]
