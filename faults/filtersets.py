from __future__ import annotations

import django_filters

from assets.filtersets import SearchFilterSet
from assets.models import Device
from core.filters import IdsFilter
from faults.choices import FaultCategory, FaultStatus
from faults.models import FaultReport
from loans.models import Loan


class FaultFilterSet(SearchFilterSet):
    search_fields = ("description", "device__inventory_number", "loan__recipient__name", "contact")
    status = django_filters.MultipleChoiceFilter(choices=FaultStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=FaultCategory.choices)
    device_id = IdsFilter(field_name="device", queryset=Device.objects.all())
    loan_id = IdsFilter(field_name="loan", queryset=Loan.objects.all())
    created_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = FaultReport
        fields = ["status", "category", "device_id", "loan_id", "created_at"]
