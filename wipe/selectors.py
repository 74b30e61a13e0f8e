"""Reads of the wipe app: lists shaped for the API and the admin, with a fixed number of queries."""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from assets.choices import DeviceStatus
from assets.models import StorageMedium
from wipe.choices import RemovalStatus, SanitizationStatus
from wipe.models import (
    CustodyEntry,
    DeviceToSanitize,
    DiskRemoval,
    NoMediaConfirmation,
    Sanitization,
    WipeEvidence,
    WipeSession,
    WipeSessionDevice,
)


def sanitization_list() -> QuerySet[Sanitization]:
    return Sanitization.objects.select_related(
        "medium", "device", "performed_by", "validated_by", "supersedes", "superseded_by", "evidence", "session")


def removal_list() -> QuerySet[DiskRemoval]:
    return DiskRemoval.objects.select_related("medium", "device", "removed_by").prefetch_related(
        Prefetch("custody", queryset=CustodyEntry.objects.select_related("recorded_by")), "documents")


def session_list() -> QuerySet[WipeSession]:
    return WipeSession.objects.select_related("opened_by", "closed_by").prefetch_related(
        Prefetch("entries", queryset=WipeSessionDevice.objects.select_related("device")), "documents"
    ).annotate(
        devices_count=Count("entries", distinct=True),
        passed_count=Count("entries", filter=Q(entries__outcome="passed"), distinct=True),
        failed_count=Count("entries", filter=Q(entries__outcome="failed"), distinct=True),
    ).order_by("-opened_at", "-id")  # Meta.ordering does not reach a GROUP BY query


def evidence_list() -> QuerySet[WipeEvidence]:
    return WipeEvidence.objects.select_related("uploaded_by", "session")


def medium_cleared() -> Exists:
    """For a StorageMedium queryset: the medium holds a validated record fit for leaving the office."""
    return Exists(Sanitization.objects.filter(medium=OuterRef("pk"), status=SanitizationStatus.VALIDATED,
                                              fit_to_leave=True))


def devices_to_sanitize(*, statuses=(DeviceStatus.RETIRED,)) -> QuerySet[DeviceToSanitize]:
    """Retired devices (or those in `statuses`) with what each still needs: media inside, how many of them are
    not cleared."""
    inside = Q(media__removed_at__isnull=True)
    return (
        DeviceToSanitize.objects.filter(status__in=statuses)
        .select_related("no_media_confirmation")
        .prefetch_related(Prefetch("media", queryset=StorageMedium.objects.annotate(cleared=medium_cleared())
                                   .prefetch_related("removal").order_by("id")))
        .annotate(media_count=Count("media", distinct=True),
                  media_inside=Count("media", filter=inside, distinct=True))
        .order_by("inventory_number")
    )


def prefetched_missing(device) -> list[StorageMedium] | None:
    """From a device of `devices_to_sanitize()` (media prefetched with `cleared`): the media inside that
    are not cleared, or None when the device has no media on record and nobody confirmed it has none.
    The same answer as services.gate_refusal, without a query per device on a list."""
    media = list(device.media.all())
    if not media:
        return [] if hasattr(device, "no_media_confirmation") else None
    return [m for m in media if m.removed_at is None and not m.cleared]


def media_inside_not_cleared() -> QuerySet[StorageMedium]:
    """Media still inside their device that hold no validated record fit for leaving the office: the gate's
    rule (services.media_not_cleared, gate_refusal, the transfer check) over every device at once."""
    # One subquery, so that status and fitness are those of the same record (a superseded record keeps
    # the fitness it had; an exclude() across the relation would mix two records).
    return StorageMedium.objects.inside().exclude(medium_cleared())


def device_media_unaccounted() -> Q:
    """For a Device queryset: no storage medium on record and nobody confirmed it has none (gate_refusal)."""
    return (~Exists(StorageMedium.objects.filter(device=OuterRef("pk")))
            & ~Exists(NoMediaConfirmation.objects.filter(device=OuterRef("pk"))))


def removals_held(*, removed_before) -> QuerySet[DiskRemoval]:
    """Removed media still held in custody (not destroyed) that were taken out before `removed_before`."""
    return DiskRemoval.objects.filter(status=RemovalStatus.HELD, removed_at__lt=removed_before)
