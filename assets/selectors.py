"""Reads of the register: querysets shaped so that a list costs the same few queries at any page size."""
from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier


def device_list() -> QuerySet[Device]:
    return Device.objects.select_related("contract__supplier", "managing_vendor", "kit").prefetch_related("media")


def device_history(device: Device) -> QuerySet[DeviceEvent]:
    """The device's events, oldest first, as the record card prints them."""
    return device.events.select_related("actor", "document").order_by("occurred_at", "id")


def device_event_list() -> QuerySet[DeviceEvent]:
    return DeviceEvent.objects.select_related("device", "actor", "document")


def storage_medium_list() -> QuerySet[StorageMedium]:
    return StorageMedium.objects.select_related("device")


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.annotate(contract_count=Count("contracts", distinct=True)).order_by("name", "id")


def contract_list() -> QuerySet[Contract]:
    return (Contract.objects.select_related("supplier").annotate(device_count=Count("devices", distinct=True))
            .order_by("-signed_on", "number", "id"))


def kit_list() -> QuerySet[Kit]:
    return Kit.objects.prefetch_related("devices")



def devices_past_expected_life(queryset: QuerySet[Device] | None = None) -> QuerySet[Device]:
    """Devices at least as old as their expected life, filtered in the database."""
    queryset = Device.objects.all() if queryset is None else queryset
    today = timezone.localdate()
    # Expected lives are whole years (1 to 50): one condition per distinct value stays portable
    # between SQLite and PostgreSQL, which add years to dates differently.
    condition = Q(pk__in=[])
    for years in queryset.order_by().values_list("expected_life_years", flat=True).distinct():
        condition |= Q(expected_life_years=years, purchase_date__lte=today - relativedelta(years=years))
    return queryset.filter(condition)
