"""Personal data of a beneficiary of a grant project (a household with a pupil in a hard financial situation:
sensitive), for core.privacy: the export, and the anonymisation once the retention period after the
project's durability period is over.

Who: the project manager (the `export_personal_data_beneficiary` and `anonymise_beneficiary` permissions).
They qualified the beneficiary, hold the project's documentation for the funding body and know when its
audits may still come; the retention period itself is a setting (PRIVACY_RETENTION_YEARS_BENEFICIARY after
the durability period ends, or after the beneficiary's last loan if that is later).

Erased, besides everything loans.privacy erases for their loan recipient (name, address, contact, notes,
loan notes, the values in events and history reasons): the basis of eligibility (it tells of social
assistance) and the reference of the decision behind it, the scan of the eligibility document (the file
is deleted, with every earlier one), the notes; the beneficiary becomes inactive. The values are also
wiped from the notes of the obligation records and from the transfers to them (notes, the reasons of
the legal office's decision, the stored legal check, the events, the history).

Kept: the beneficiary's code (the number in the project's list, EI/GD/001, under which the mayor's order
annex names it), kind, project and qualification date, so that the durability report and the orders
still add up; the obligation records with their proof (the office's invoices and service reports, its
own accounting evidence towards the funding body); the transfers with their number, order, date, status,
devices and protocol; every issued document, byte for byte: the free transfer protocol is the evidence
that ownership passed to this household (Civil Code art. 888, and the removal of the fixed assets from
the accounts), and it stays verifiable at /verify/.

Refused: before the retention period is over, while a loan is open, a finding unsettled, or a transfer to
them is still in progress (draft, submitted, approved), and a second time.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import privacy
from core.audit import save_audited
from core.exceptions import GuardFailed
from core.models import Anonymisation
from donations.choices import TRANSFER_OPEN
from donations.models import Beneficiary, ObligationRecord, OrderAnnexBeneficiary, Transfer, TransferEvent
from loans import privacy as loan_privacy
from loans.choices import LoanStatus
from loans.models import Loan, Recipient

User = AbstractBaseUser

BENEFICIARY_ERASED = {"eligibility_basis": privacy.PLACEHOLDER, "eligibility_reference": privacy.PLACEHOLDER,
                      "eligibility_document": "", "notes": privacy.PLACEHOLDER}
TRANSFER_TEXTS = ["notes", "decision_reason", "override_reason"]


def beneficiary_label(beneficiary: Beneficiary) -> str:
    return _("beneficiary %(code)s") % {"code": beneficiary.code}


def _beneficiary_of(recipient: Recipient) -> Beneficiary | None:
    return Beneficiary.objects.select_related("project").filter(recipient=recipient).first()


# --- the parts of a loan recipient this app holds -----------------------------------------------------

def _export_beneficiary(recipient: Recipient) -> dict[str, Any] | None:
    beneficiary = _beneficiary_of(recipient)
    if beneficiary is None:
        return None
    project = beneficiary.project
    return {
        **privacy.record(beneficiary),
        "project": {"id": project.pk, "name": project.name, "agreement_number": project.agreement_number,
                    "durability_ends_on": privacy.plain(project.durability_ends_on)},
        "obligation_records": [
            {**privacy.record(r), "obligation": str(r.obligation)}
            for r in ObligationRecord.objects.filter(beneficiary=beneficiary).select_related("obligation")
            .order_by("month", "pk")],
        "order_annexes": [{"order": row.order.number, "line": row.line}
                          for row in OrderAnnexBeneficiary.objects.filter(beneficiary=beneficiary)
                          .select_related("order").order_by("order__signed_on", "pk")],
        "history": privacy.history(beneficiary),
    }


def _transfers(recipient: Recipient):
    return (Transfer.objects.filter(recipient=recipient).select_related("order", "protocol")
            .order_by("transfer_date", "pk"))


def _export_transfers(recipient: Recipient) -> list[dict[str, Any]]:
    return [{
        **privacy.record(transfer),
        "order": transfer.order.number,
        "devices": list(transfer.items.order_by("device__inventory_number").values_list("device__inventory_number",
                                                                                         flat=True)),
        "events": [privacy.record(e) for e in transfer.events.order_by("occurred_at", "pk")],
        "documents": privacy.document_facts(transfer.documents.order_by("issued_at", "pk")),
        "history": privacy.history(transfer),
    } for transfer in _transfers(recipient)]


def _values(recipient: Recipient) -> set[str]:
    beneficiary = _beneficiary_of(recipient)
    if beneficiary is None:
        return set()
    return privacy.history_values(Beneficiary, [beneficiary.pk], ["eligibility_reference"])


def _transfers_guard(recipient: Recipient, label: str) -> None:
    pending = list(_transfers(recipient).filter(status__in=TRANSFER_OPEN).values_list("number", flat=True))
    if pending:
        raise GuardFailed(_("The transfer %(numbers)s to %(subject)s is still in progress; it must be completed or "
                            "cancelled first.") % {"numbers": ", ".join(pending), "subject": label},
                          code="transfer_in_progress")


def _guard(recipient: Recipient) -> None:
    """A recipient who is a beneficiary is erased as one, under the project's retention period."""
    beneficiary = _beneficiary_of(recipient)
    if beneficiary is not None:
        raise GuardFailed(_("This recipient is the beneficiary %(code)s of the project %(project)s: anonymise "
                            "them as a beneficiary.") % {"code": beneficiary.code, "project": beneficiary.project.name},
                          code="is_beneficiary")
    _transfers_guard(recipient, loan_privacy.recipient_label(recipient))


def _anonymise(recipient: Recipient, scrubber: privacy.Scrubber, *, by) -> dict[str, int]:
    counts: dict[str, int] = {}
    beneficiary = Beneficiary.objects.select_for_update().filter(recipient=recipient).first()
    if beneficiary is not None:
        files = set(Beneficiary.history.model.objects.filter(id=beneficiary.pk).exclude(eligibility_document="")
                    .values_list("eligibility_document", flat=True))
        scans = privacy.delete_file(beneficiary.eligibility_document)
        for name in files:
            if name and default_storage.exists(name):
                default_storage.delete(name)
                scans += 1
        for field, value in BENEFICIARY_ERASED.items():
            setattr(beneficiary, field, value if getattr(beneficiary, field) or field == "eligibility_basis" else "")
        beneficiary.is_active = False
        save_audited(beneficiary, by=by, reason=_("personal data anonymised"))
        counts["beneficiaries"] = 1
        counts["eligibility_scans"] = scans
        counts["beneficiary_history_rows"] = privacy.erase_history(Beneficiary, [beneficiary.pk], BENEFICIARY_ERASED,
                                                                   scrubber)
        counts["obligation_records"] = scrubber.rows(ObligationRecord.objects.filter(beneficiary=beneficiary), ["note"])
    transfers = _transfers(recipient).select_for_update(of=("self",))
    ids = list(transfers.values_list("pk", flat=True))
    counts["transfers"] = scrubber.rows(Transfer.objects.filter(pk__in=ids), TRANSFER_TEXTS)
    counts["transfers"] += scrubber.json_rows(Transfer.objects.filter(pk__in=ids), "checks")
    history_rows = Transfer.history.model.objects.filter(id__in=ids)
    counts["transfer_history_rows"] = scrubber.rows(history_rows, [*TRANSFER_TEXTS, "history_change_reason"])
    counts["transfer_history_rows"] += scrubber.json_rows(history_rows, "checks")
    counts["transfer_events"] = scrubber.rows(TransferEvent.objects.filter(transfer_id__in=ids), ["reason"])
    return counts


# --- the beneficiary as the subject -------------------------------------------------------------------

def beneficiary_export(beneficiary: Beneficiary) -> dict[str, Any]:
    """Everything held about a beneficiary: their record, obligations and annex lines, and everything held
    about their loan recipient (contact, loans, documents by code, transfers), with the history of each."""
    data = loan_privacy.recipient_export(beneficiary.recipient, subject_type="beneficiary")
    data["subject"]["id"] = beneficiary.pk
    envelope = privacy.export_envelope(subject_type="beneficiary", subject=beneficiary)
    if envelope["anonymisation"] is not None:
        data["anonymisation"] = envelope["anonymisation"]
    return data


def beneficiary_anchor(beneficiary: Beneficiary) -> date:
    """The durability period's end, or the end of the beneficiary's last loan if that came later."""
    days = [beneficiary.project.durability_ends_on]
    for loan in Loan.objects.filter(recipient_id=beneficiary.recipient_id):
        days.append(loan.ended_on or loan.planned_end_on)
    return max(days)


def beneficiary_retention_ends_on(beneficiary: Beneficiary) -> date:
    return privacy.years_after(beneficiary_anchor(beneficiary), settings.PRIVACY_RETENTION_YEARS_BENEFICIARY)


def _guard_beneficiary(beneficiary: Beneficiary, *, today: date) -> date:
    label = beneficiary_label(beneficiary)
    privacy.refuse_if_anonymised(beneficiary)
    _transfers_guard(beneficiary.recipient, label)
    ends_on = beneficiary_retention_ends_on(beneficiary)
    loan_privacy.recipient_guard(beneficiary.recipient, retention_ends_on=ends_on, today=today, label=label,
                                 parts=False)
    return ends_on


@transaction.atomic
def beneficiary_anonymise(*, beneficiary: Beneficiary, by: User | None, today: date | None = None) -> Anonymisation:
    """Erase a beneficiary's personal data once the retention period is over (see the module's docstring);
    refused with the reason, nothing written, before. Records the erasure of the beneficiary and of their
    loan recipient."""
    beneficiary = Beneficiary.objects.select_for_update(of=("self",)).select_related("project", "recipient").get(
        pk=beneficiary.pk)
    recipient = Recipient.objects.select_for_update(of=("self",)).select_related("user").get(pk=beneficiary.recipient_id)
    beneficiary.recipient = recipient
    today = today or timezone.localdate()
    ends_on = _guard_beneficiary(beneficiary, today=today)
    counts = loan_privacy.recipient_erase(recipient, by=by)
    erasure = privacy.record_anonymisation(
        beneficiary, by=by, label=privacy.stored_label(beneficiary_label, beneficiary), retention_ended_on=ends_on,
        summary=counts)
    privacy.record_anonymisation(
        recipient, by=by, label=privacy.stored_label(loan_privacy.recipient_label, recipient),
        retention_ended_on=ends_on, summary=counts)
    return erasure


def beneficiaries_past_retention(today: date) -> list[Beneficiary]:
    done = Anonymisation.objects.filter(subject_type__app_label="donations", subject_type__model="beneficiary")
    candidates = (Beneficiary.objects.select_related("project", "recipient__user")
                  .exclude(pk__in=done.values("subject_id"))
                  .exclude(recipient__loans__status=LoanStatus.OPEN).order_by("pk").distinct())
    expired = []
    for beneficiary in candidates:
        try:
            _guard_beneficiary(beneficiary, today=today)
        except GuardFailed:
            continue
        expired.append(beneficiary)
    return expired


def register() -> None:
    privacy.register_part(Recipient, privacy.Part(key="beneficiary", export=_export_beneficiary, guard=_guard,
                                                  values=_values))
    privacy.register_part(Recipient, privacy.Part(key="transfers", export=_export_transfers, anonymise=_anonymise))
    privacy.register_subject_kind(privacy.SubjectKind(
        key="beneficiary", expired=beneficiaries_past_retention, label=beneficiary_label,
        anonymise=lambda subject, *, by, today: beneficiary_anonymise(beneficiary=subject, by=by, today=today)))
