"""Personal data of a loan recipient (a councillor above all): the export, and the anonymisation once the
retention period after their term (or their last loan) is over. The shared machinery is core.privacy.

Who: the legal office (the `export_personal_data_recipient` and `anonymise_recipient` permissions). A
request under GDPR art. 15 or 17 and the decision that the retention period is over are legal matters;
the IT office lends the tablets but does not decide how long the office must keep a councillor's data.

Erased (the record and every history row of it): the recipient's name (PLACEHOLDER), address, e-mail,
phone and notes; the notes of their loans; their sign-in account's name, e-mail and password (the account
is deactivated, loses its roles, API token and sessions, and is renamed `anonymised-<id>`); wherever an
event, a finding, a set-up note or a history reason repeats one of their values, that value.

Kept, because they are the office's evidence and say nothing of the person by themselves: the loans with
their dates, devices, accessories, conditions, set-up steps, findings and events (the register of fixed
assets must show where each device was and what came back: Accounting Act art. 74(2)); the council term;
the issued loan agreements and protocols, byte for byte (their SHA-256 still verifies at /verify/): the
signed agreement (Civil Code art. 710) is what proves the loan, and it is archived under the office's
archive rules, not by this register.

Refused: before the retention period is over (PRIVACY_RETENTION_YEARS_COUNCILLOR after the later of the
council term's end and the last loan's end), while a loan is open or a finding unsettled (the office may
still have a claim), for a staff account of the office, for a beneficiary of a grant project (erased as
a beneficiary, under the project's rules: donations.privacy) and a second time.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.models import Device, DeviceEvent
from core import privacy
from core.audit import save_audited
from core.exceptions import GuardFailed
from core.models import Anonymisation, StoredDocument
from loans.choices import FindingStatus, LoanStatus
from loans.models import Loan, LoanAccessory, LoanEvent, LoanFinding, LoanItem, LoanSetupStep, Recipient

User = AbstractBaseUser

RECIPIENT_FIELDS = ("name", "address", "email", "phone", "notes")
USER_FIELDS = ("username", "first_name", "last_name", "email")


def recipient_label(recipient: Recipient) -> str:
    return _("recipient #%(id)s") % {"id": recipient.pk}


def _loans(recipient: Recipient):
    return (Loan.objects.filter(recipient=recipient).select_related("council_term").order_by("starts_on", "id")
            .prefetch_related(
                Prefetch("items", queryset=LoanItem.objects.select_related("device")
                         .order_by("device__inventory_number")),
                "accessories", "setup_steps", "findings", "events",
                Prefetch("documents", queryset=StoredDocument.objects.order_by("issued_at", "id"))))


def _user_export(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "first_name": user.first_name,
            "last_name": user.last_name, "email": user.email, "is_active": user.is_active,
            "date_joined": privacy.plain(user.date_joined), "last_login": privacy.plain(user.last_login),
            "roles": sorted(user.groups.values_list("name", flat=True))}


def _loan_export(loan: Loan) -> dict[str, Any]:
    return {
        **privacy.record(loan),
        "council_term": privacy.record(loan.council_term) if loan.council_term else None,
        "devices": [{"inventory_number": i.device.inventory_number, "kind": i.device.kind,
                     "manufacturer": i.device.manufacturer, "model": i.device.model,
                     "serial_number": i.device.serial_number, "held": i.is_open,
                     "closed_on": privacy.plain(i.closed_on)}
                    for i in loan.items.all()],
        "accessories": [privacy.record(a) for a in loan.accessories.all()],
        "setup_steps": [privacy.record(s) for s in loan.setup_steps.all()],
        "findings": [{**privacy.record(f), "history": privacy.history(f)} for f in loan.findings.all()],
        "events": [privacy.record(e) for e in sorted(loan.events.all(), key=lambda e: (e.occurred_at, e.pk))],
        "documents": privacy.document_facts(loan.documents.all()),
        "history": privacy.history(loan),
    }


def recipient_export(recipient: Recipient, *, subject_type: str = "recipient") -> dict[str, Any]:
    """Everything held about a borrower: the record and its history, the sign-in account, every loan with
    its devices, events, findings, documents (by code and SHA-256) and history, and what the other apps
    hold (fault reports, the beneficiary record, transfers)."""
    recipient = Recipient.objects.select_related("user").get(pk=recipient.pk)
    return {
        **privacy.export_envelope(subject_type=subject_type, subject=recipient),
        "recipient": {**privacy.record(recipient), "history": privacy.history(recipient)},
        "user_account": _user_export(recipient.user),
        "loans": [_loan_export(loan) for loan in _loans(recipient)],
        **privacy.export_parts(recipient),
    }


def recipient_anchor(recipient: Recipient) -> date:
    """The day the office last needed the recipient: the latest end of their loans and council terms."""
    days = []
    for loan in Loan.objects.filter(recipient=recipient).select_related("council_term"):
        days.append(loan.ended_on or loan.planned_end_on)
        if loan.council_term:
            days.append(loan.council_term.ends_on)
    return max(days) if days else timezone.localdate(recipient.created_at)  # registered, never lent to


def recipient_retention_ends_on(recipient: Recipient) -> date:
    return privacy.years_after(recipient_anchor(recipient), settings.PRIVACY_RETENTION_YEARS_COUNCILLOR)


def recipient_guard(recipient: Recipient, *, retention_ends_on: date, today: date, label: str,
                    parts: bool = True) -> None:
    """Refuse while the office may still need the data; each refusal says what must happen first."""
    privacy.refuse_if_anonymised(recipient)
    if parts:
        privacy.guard_parts(recipient)
    open_loans = list(Loan.objects.filter(recipient=recipient, status=LoanStatus.OPEN).values_list("pk", flat=True))
    if open_loans:
        raise GuardFailed(_("%(subject)s still holds devices under loan no. %(loans)s; the loan must end first.")
                          % {"subject": label, "loans": ", ".join(map(str, open_loans))}, code="open_loan")
    if LoanFinding.objects.filter(loan__recipient=recipient, status=FindingStatus.OPEN).exists():
        raise GuardFailed(_("A finding of a loan of %(subject)s is not settled yet.") % {"subject": label},
                          code="open_finding")
    user = recipient.user
    if user is not None and (user.is_staff or user.is_superuser):
        raise GuardFailed(_("The user account of %(subject)s is a staff account of the office; close it as a "
                            "member of staff first.") % {"subject": label}, code="staff_account")
    privacy.refuse_before(retention_ends_on, today=today, label=label)


def recipient_values(recipient: Recipient) -> list[str]:
    """Every personal value of the recipient and their account, now and in their history."""
    values = {getattr(recipient, f) for f in RECIPIENT_FIELDS if f != "notes"}
    values |= privacy.history_values(Recipient, [recipient.pk], ["name", "address", "email", "phone"])
    user = recipient.user
    if user is not None:
        values |= {user.get_username(), user.first_name, user.last_name, user.get_full_name(), user.email}
    values |= set(privacy.part_values(recipient))
    return [v for v in values if v]


def recipient_erase(recipient: Recipient, *, by: User | None) -> dict[str, int]:
    """Erase the recipient's personal data everywhere this register holds it; no checks (callers guard).
    Runs in the caller's transaction with the recipient locked."""
    scrubber = privacy.Scrubber(recipient_values(recipient))
    reason = _("personal data anonymised")
    counts: dict[str, int] = {}
    # The other apps first: they may still read the recipient's values (the beneficiary, the faults).
    for key, count in privacy.anonymise_parts(recipient, scrubber, by=by).items():
        counts[key] = counts.get(key, 0) + count

    erased = {"name": privacy.PLACEHOLDER, "address": privacy.PLACEHOLDER, "email": "",
              "phone": privacy.PLACEHOLDER, "notes": privacy.PLACEHOLDER}
    for field, value in erased.items():
        setattr(recipient, field, value if getattr(recipient, field) or field == "name" else "")
    save_audited(recipient, by=by, reason=reason)
    counts["recipient_history_rows"] = privacy.erase_history(Recipient, [recipient.pk], erased, scrubber)

    loans = list(Loan.objects.select_for_update().filter(recipient=recipient).order_by("pk"))
    loan_ids = [loan.pk for loan in loans]
    for loan in loans:
        changed = False
        for field in ("condition_at_handover", "condition_at_return"):
            cleaned = scrubber.text(getattr(loan, field))
            changed |= cleaned != getattr(loan, field)
            setattr(loan, field, cleaned)
        if loan.notes:
            loan.notes, changed = privacy.PLACEHOLDER, True
        if changed:
            save_audited(loan, by=by, reason=reason)
    counts["loans"] = len(loans)
    counts["loan_history_rows"] = privacy.erase_history(Loan, loan_ids, {"notes": privacy.PLACEHOLDER}, scrubber)
    counts["loan_history_rows"] += scrubber.rows(Loan.history.model.objects.filter(id__in=loan_ids),
                                                 ["condition_at_handover", "condition_at_return"])
    counts["loan_events"] = scrubber.rows(LoanEvent.objects.filter(loan_id__in=loan_ids), ["reason"])
    findings = LoanFinding.objects.filter(loan_id__in=loan_ids)
    counts["loan_findings"] = scrubber.rows(findings, ["description", "settlement"])
    counts["loan_finding_history_rows"] = scrubber.rows(
        LoanFinding.history.model.objects.filter(loan_id__in=loan_ids),
        ["description", "settlement", "history_change_reason"])
    counts["setup_steps"] = scrubber.rows(LoanSetupStep.objects.filter(loan_id__in=loan_ids), ["note"])
    counts["accessories"] = scrubber.rows(LoanAccessory.objects.filter(loan_id__in=loan_ids), ["description"])

    # Devices lent to them: their events and history reasons may name the recipient ("loan 12 to ...").
    device_ids = list(LoanItem.objects.filter(loan_id__in=loan_ids).values_list("device_id", flat=True).distinct())
    counts["device_events"] = scrubber.rows(DeviceEvent.objects.filter(device_id__in=device_ids),
                                            ["reason", "reference"])
    # Their notes and location may name the holder too ("at Mrs X's, ul. ..."); the Anonymisation row is
    # the audit of this change, so a plain update, and the same in the devices' history.
    counts["devices"] = scrubber.rows(Device.objects.filter(pk__in=device_ids), ["location", "notes"])
    counts["device_history_rows"] = scrubber.rows(Device.history.model.objects.filter(id__in=device_ids),
                                                  ["location", "notes", "history_change_reason"])

    if recipient.user is not None:
        counts.update(privacy.erase_user(recipient.user, scrubber=scrubber))
    return counts


@transaction.atomic
def recipient_anonymise(*, recipient: Recipient, by: User | None, today: date | None = None) -> Anonymisation:
    """Erase a borrower's personal data once the retention period is over (see the module's docstring for
    what is erased and what is kept). Refused with the reason, nothing written, when it may not happen yet."""
    recipient = Recipient.objects.select_for_update(of=("self",)).select_related("user").get(pk=recipient.pk)
    today = today or timezone.localdate()
    label = recipient_label(recipient)
    ends_on = recipient_retention_ends_on(recipient)
    recipient_guard(recipient, retention_ends_on=ends_on, today=today, label=label)
    counts = recipient_erase(recipient, by=by)
    return privacy.record_anonymisation(recipient, by=by, label=privacy.stored_label(recipient_label, recipient),
                                        retention_ended_on=ends_on, summary=counts)


def recipients_past_retention(today: date) -> list[Recipient]:
    """Borrowers (beneficiaries excepted) whose retention period is over and whose data may go now."""
    done = Anonymisation.objects.filter(subject_type__app_label="loans", subject_type__model="recipient")
    candidates = (Recipient.objects.select_related("user").exclude(pk__in=done.values("subject_id"))
                  .exclude(loans__status=LoanStatus.OPEN).order_by("pk").distinct())
    expired = []
    for recipient in candidates:
        try:
            recipient_guard(recipient, retention_ends_on=recipient_retention_ends_on(recipient), today=today,
                            label=recipient_label(recipient))
        except GuardFailed:
            continue
        expired.append(recipient)
    return expired


def register() -> None:
    privacy.register_subject_kind(privacy.SubjectKind(
        key="recipient", expired=recipients_past_retention, label=recipient_label,
        anonymise=lambda subject, *, by, today: recipient_anonymise(recipient=subject, by=by, today=today)))
