"""The wipes of the synthetic data set (assets.dataset): a validated Purge of every medium of a device
on its move to "sanitized", by one IT person and validated by another, with its two wipe events; a
device with no medium gets a named person's confirmation that it holds none."""
from __future__ import annotations

from datetime import timedelta

from assets.choices import DeviceStatus, MediumKind
from assets.dataset import DatasetContext, DevicePlan
from wipe.choices import (
    Destination,
    MethodClass,
    SanitizationStatus,
    Technique,
    Verification,
    VerificationResult,
    WipeEventKind,
)
from wipe.models import NoMediaConfirmation, Sanitization, WipeEvent

# A Purge technique fit for each kind of medium (wipe.fitness): never an overwrite on flash.
PURGE_BY_KIND = {
    MediumKind.HDD: (Technique.ATA_SECURE_ERASE, False, "hdparm"),
    MediumKind.SSD: (Technique.CRYPTO_ERASE, True, "hdparm"),
    MediumKind.NVME: (Technique.NVME_SANITIZE, False, "nvme-cli"),
    MediumKind.EMMC: (Technique.FACTORY_RESET, True, "Android recovery"),
}


class Contribution:
    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        w = ctx.writer
        self.sanitizations = w.sink(
            Sanitization, ["id", "medium_id", "device_id", "method_class", "technique", "encryption_enabled", "tool",
                           "started_at", "finished_at", "verification", "verification_result", "destination",
                           "organization", "location", "performed_by_id", "validated_by_id", "validated_at", "status",
                           "fit_to_leave", "created_at", "updated_at"],
            history=True, history_date_field="validated_at")
        self.events = w.sink(WipeEvent, ["id", "kind", "sanitization_id", "device_id", "occurred_at", "actor_id",
                                         "from_status", "to_status"])
        self.no_media = w.sink(NoMediaConfirmation, ["id", "device_id", "confirmed_by_id", "confirmed_at",
                                                     "how_checked"], history=True, history_date_field="confirmed_at")

    def prepare(self) -> None:
        pass

    def on_device(self, plan: DevicePlan) -> None:
        at = next((at for status, at in plan.moves if status == DeviceStatus.SANITIZED), None)
        if at is None:
            return
        ctx = self.ctx
        if not plan.media:
            self.no_media.add((self.no_media.take_id(), plan.id, ctx.it_user_id, at - timedelta(hours=1),
                               "obudowa otwarta, brak nośnika"))
        for medium_id, kind in plan.media:
            technique, encrypted, tool = PURGE_BY_KIND.get(kind, (Technique.CRYPTO_ERASE, True, "vendor tool"))
            started, finished = at - timedelta(hours=3), at - timedelta(hours=2)
            sanitization_id = self.sanitizations.take_id()
            self.sanitizations.add((
                sanitization_id, medium_id, plan.id, MethodClass.PURGE, technique, encrypted, tool, started, finished,
                Verification.FULL, VerificationResult.PASSED, Destination.LEAVES_OFFICE, "Urząd Miasta",
                "Biuro Informatyki", ctx.it_user_id, ctx.validator_user_id, at, SanitizationStatus.VALIDATED, True,
                finished, at,
            ))
            self.events.add((self.events.take_id(), WipeEventKind.RECORDED, sanitization_id, plan.id, finished,
                             ctx.it_user_id, "", SanitizationStatus.RECORDED))
            self.events.add((self.events.take_id(), WipeEventKind.VALIDATED, sanitization_id, plan.id, at,
                             ctx.validator_user_id, SanitizationStatus.RECORDED, SanitizationStatus.VALIDATED))

    def finish(self) -> None:
        pass
