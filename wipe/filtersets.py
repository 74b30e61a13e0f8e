from __future__ import annotations

import django_filters

from assets.filtersets import SearchFilterSet
from assets.models import Device
from core.filters import IdsFilter
from wipe.choices import (Destination, MethodClass, RemovalStatus, SanitizationStatus, SessionStatus, Technique,
                          VerificationResult)
from wipe.models import DeviceToSanitize, DiskRemoval, Sanitization, WipeEvidence, WipeSession


class SanitizationFilterSet(SearchFilterSet):
    search_fields = ("device__inventory_number", "medium__serial_number", "tool", "notes")
    status = django_filters.MultipleChoiceFilter(choices=SanitizationStatus.choices)
    method_class = django_filters.MultipleChoiceFilter(choices=MethodClass.choices)
    technique = django_filters.MultipleChoiceFilter(choices=Technique.choices)
    destination = django_filters.MultipleChoiceFilter(choices=Destination.choices)
    verification_result = django_filters.MultipleChoiceFilter(choices=VerificationResult.choices)
    device_id = IdsFilter(field_name="device", queryset=Device.objects.all())
    finished_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Sanitization
        fields = ["status", "method_class", "technique", "destination", "verification_result", "fit_to_leave",
                  "device_id", "medium", "session", "evidence", "finished_at"]


class DiskRemovalFilterSet(SearchFilterSet):
    search_fields = ("device__inventory_number", "medium__serial_number", "kept_at", "held_by", "certificate_number")
    status = django_filters.MultipleChoiceFilter(choices=RemovalStatus.choices)
    device_id = IdsFilter(field_name="device", queryset=Device.objects.all())
    removed_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = DiskRemoval
        fields = ["status", "device_id", "medium", "removed_at"]


class WipeSessionFilterSet(SearchFilterSet):
    search_fields = ("reference", "location", "entries__device__inventory_number")
    status = django_filters.MultipleChoiceFilter(choices=SessionStatus.choices)

    class Meta:
        model = WipeSession
        fields = ["status"]

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()


class WipeEvidenceFilterSet(SearchFilterSet):
    search_fields = ("original_name", "sha256")

    class Meta:
        model = WipeEvidence
        fields = ["session", "format", "sha256"]


class DeviceToSanitizeFilterSet(SearchFilterSet):
    search_fields = ("inventory_number", "serial_number", "media__serial_number", "location")

    class Meta:
        model = DeviceToSanitize
        fields = ["kind"]

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()
