from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.filtersets import SearchFilterSet
from assets.models import Device, Kit
from core.filters import IdFilter, IdsFilter
from loans.choices import FindingStatus, LoanPurpose, LoanStatus, RecipientKind
from loans.models import CouncilTerm, Loan, LoanFinding, Recipient


class LoanFilterSet(SearchFilterSet):
    search_fields = ("recipient__name", "items__device__inventory_number", "items__device__serial_number", "notes")
    # distinct=False: columns of the loan itself repeat no row; a DISTINCT over every column sorted all
    # open loans for each page (0.7 s at 1.5 million loans).
    status = django_filters.MultipleChoiceFilter(choices=LoanStatus.choices, distinct=False)
    purpose = django_filters.MultipleChoiceFilter(choices=LoanPurpose.choices, distinct=False)
    recipient_id = IdsFilter(field_name="recipient", queryset=Recipient.objects.all(), distinct=False)
    council_term_id = IdsFilter(field_name="council_term",
                                queryset=CouncilTerm.objects.all(), distinct=False)
    kit_id = IdsFilter(field_name="kit", queryset=Kit.objects.all())
    device_id = IdsFilter(field_name="items__device", queryset=Device.objects.all(),
                          distinct=True)
    planned_end_on = django_filters.DateFromToRangeFilter()
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = Loan
        fields = ["status", "purpose", "recipient_id", "council_term_id", "kit_id", "device_id", "planned_end_on"]

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status=LoanStatus.OPEN, planned_end_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class RecipientFilterSet(SearchFilterSet):
    search_fields = ("name", "address", "email", "user__username")
    kind = django_filters.MultipleChoiceFilter(choices=RecipientKind.choices)

    class Meta:
        model = Recipient
        fields = ["kind"]


class CouncilTermFilterSet(SearchFilterSet):
    search_fields = ("council", "name")

    class Meta:
        model = CouncilTerm
        fields = ["council"]


class FindingFilterSet(SearchFilterSet):
    search_fields = ("description", "loan__recipient__name")
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    loan_id = IdFilter(field_name="loan")

    class Meta:
        model = LoanFinding
        fields = ["status", "loan_id"]
