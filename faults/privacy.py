"""What fault reports hold about a borrower, for core.privacy: registered as a part of loans.Recipient.

Erased: the description the person wrote, how to reach them, the photo (the file is deleted, with every
earlier photo of the report), the messages exchanged with them (replies, and the event reasons that
repeat them), in the records and in their history. Kept: which device, when, the category and every
status change with who made it: the device's repair record, which says nothing of the person.
"""
from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from core import privacy
from core.audit import save_audited
from faults.models import FaultEvent, FaultReply, FaultReport
from loans.models import Recipient


def _faults(recipient: Recipient):
    return FaultReport.objects.filter(loan__recipient=recipient).select_related("device").order_by("created_at", "pk")


def export(recipient: Recipient) -> list[dict[str, Any]]:
    return [{
        **privacy.record(fault),
        "device": fault.device.inventory_number,
        "replies": [privacy.record(r) for r in fault.replies.order_by("created_at", "pk")],
        "events": [privacy.record(e) for e in fault.events.order_by("occurred_at", "pk")],
        "history": privacy.history(fault),
    } for fault in _faults(recipient)]


def values(recipient: Recipient) -> set[str]:
    ids = list(_faults(recipient).values_list("pk", flat=True))
    return privacy.history_values(FaultReport, ids, ["contact"])


def anonymise(recipient: Recipient, scrubber: privacy.Scrubber, *, by) -> dict[str, int]:
    faults = list(_faults(recipient).select_for_update(of=("self",)))
    ids = [f.pk for f in faults]
    photos = 0
    old_photos = set(FaultReport.history.model.objects.filter(id__in=ids).exclude(photo="")
                     .values_list("photo", flat=True))
    for fault in faults:
        photos += privacy.delete_file(fault.photo)
        fault.photo = ""
        fault.description = privacy.PLACEHOLDER
        fault.contact = privacy.PLACEHOLDER
        save_audited(fault, by=by, reason=_("personal data anonymised"))
    for name in old_photos:  # a photo replaced earlier is still a file on the disk
        if name and default_storage.exists(name):
            default_storage.delete(name)
            photos += 1
    erased = {"description": privacy.PLACEHOLDER, "contact": privacy.PLACEHOLDER, "photo": ""}
    return {
        "fault_reports": len(faults),
        "fault_photos": photos,
        "fault_history_rows": privacy.erase_history(FaultReport, ids, erased, scrubber),
        "fault_replies": FaultReply.objects.filter(fault_id__in=ids).exclude(body=privacy.PLACEHOLDER)
        .update(body=privacy.PLACEHOLDER),
        "fault_events": FaultEvent.objects.filter(fault_id__in=ids).exclude(reason="")
        .exclude(reason=privacy.PLACEHOLDER).update(reason=privacy.PLACEHOLDER),
    }


def register() -> None:
    privacy.register_part(Recipient, privacy.Part(key="fault_reports", export=export, anonymise=anonymise,
                                                  values=values))
