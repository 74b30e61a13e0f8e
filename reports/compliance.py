"""The compliance check: every gap across the register, each naming its record and what would fix it.

`run_check()` reads the whole register and reports, kind by kind (GapKind, in the order below):

1. data that may have left the office: a transferred or scrapped device with a medium inside that holds no
   validated sanitization fit for leaving (the wipe gate's rule), or with no media on record and nobody
   confirming it has none; unless it left under the beneficiary exception (DESIGN §4);
2. an approved or completed transfer its order does not cover (in force, kind, annex: donations.legal);
3. a device of a grant project that changed owner within the project's durability period;
4. a loan without an issued loan agreement; 5. an open loan past its planned end;
6. a fault open for more than N days; 7. a removed disk not destroyed N days after its removal;
8. an issued document whose stored file is missing or no longer has its SHA-256;
9. a device still in use or on loan past its expected life.

Each gap says what is wrong, with the specifics (dates, media, the order's number, days), and what a clerk
can do about it. The rules are those of the apps (their selectors hold the set-based form of each rule the
services check one record at a time), applied in the database: a fixed number of queries (one or two per
kind) whatever the size of the register; only the gaps themselves come back to Python. The documents are
the exception that must be read: each stored file is hashed as a stream, after one query for them all.
The check writes nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assets.choices import DeviceStatus, MediumKind
from assets.models import Device
from core.exceptions import InvalidInput
from core.models import StoredDocument
from core.selectors import document_matches_file
from core.storage import open_stream
from donations.choices import TransferStatus
from donations.models import MayoralOrder, Transfer, TransferItem, add_years
from donations.selectors import (
    liquidations_within_durability,
    transfer_item_in_annex,
    transfer_order_in_force,
    transfer_order_kind_allowed,
    transfers_within_durability,
)
from faults.choices import FaultCategory, FaultStatus
from faults.models import FaultReport
from faults.selectors import open_faults
from loans.choices import LoanPurpose, LoanStatus
from loans.models import Loan
from loans.selectors import loan_has_agreement, overdue_loans
from wipe.models import DiskRemoval
from wipe.selectors import device_media_unaccounted, media_inside_not_cleared, removals_held

__all__ = ["GapKind", "GapRecord", "Gap", "ComplianceReport", "run_check", "parse_kinds", "parse_days"]


class GapKind(models.TextChoices):
    DATA_LEFT_OFFICE = "data_left_office", gettext_lazy("data may have left the office")
    TRANSFER_NOT_COVERED = "transfer_not_covered", gettext_lazy("transfer not covered by its order")
    DURABILITY_BREACH = "durability_breach", gettext_lazy("owner changed within the durability period")
    LOAN_WITHOUT_AGREEMENT = "loan_without_agreement", gettext_lazy("loan without a loan agreement")
    LOAN_OVERDUE = "loan_overdue", gettext_lazy("loan past its planned end")
    FAULT_OPEN_TOO_LONG = "fault_open_too_long", gettext_lazy("fault open too long")
    DISK_NOT_DESTROYED = "disk_not_destroyed", gettext_lazy("removed disk not destroyed")
    DOCUMENT_ALTERED = "document_altered", gettext_lazy("issued document missing or altered")
    PAST_EXPECTED_LIFE = "past_expected_life", gettext_lazy("device in use past its expected life")


@dataclass(frozen=True, slots=True)
class GapRecord:
    """The record a gap is about: its model (``app_label.model``), id, label and admin change page."""

    model: str
    id: int
    label: str
    url: str

    def as_dict(self) -> dict:
        return {"model": self.model, "id": self.id, "label": self.label, "url": self.url}


@dataclass(frozen=True, slots=True)
class Gap:
    """One gap: its kind, its record, the problem with its specifics, what would fix it, since when."""

    kind: str
    record: GapRecord
    problem: str
    fix: str
    since: date | None = None

    @property
    def label(self) -> str:
        return str(GapKind(self.kind).label)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "record": self.record.as_dict(), "problem": self.problem,
                "fix": self.fix, "since": self.since.isoformat() if self.since else None}


@dataclass
class ComplianceReport:
    """What one run of the check found: the gaps (by kind, then record), how many of each kind asked."""

    gaps: list[Gap]
    counts: dict[str, int]
    checked_at: datetime
    parameters: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.gaps)

    def summary(self) -> list[dict]:
        """Per kind asked, in the check's order: code, translated label, count (zeros included)."""
        return [{"kind": kind, "label": str(GapKind(kind).label), "count": count}
                for kind, count in self.counts.items()]

    def as_dict(self) -> dict:
        return {"checked_at": self.checked_at.isoformat(), "parameters": self.parameters,
                "summary": self.summary(), "total": self.total, "gaps": [gap.as_dict() for gap in self.gaps]}


# --- parameters -----------------------------------------------------------------------------------

def parse_kinds(values: Iterable[str] | None, *, field_name: str = "kind") -> list[str]:
    """The kinds asked, each once, in the check's order; all of them when none is named."""
    if values is None:
        return list(GapKind.values)
    if isinstance(values, str):
        values = [values]
    wanted = set()
    for value in values:
        value = str(value).strip()
        if value not in GapKind.values:
            raise InvalidInput(_("Unknown kind of gap “%(kind)s”; choose from: %(kinds)s.")
                               % {"kind": value, "kinds": ", ".join(GapKind.values)}, field=field_name)
        wanted.add(value)
    return [kind for kind in GapKind.values if kind in wanted] if wanted else list(GapKind.values)


def parse_days(value, *, default: int, field_name: str) -> int:
    """A number of days (0 or more) given as a number or text; `default` when it is None or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise InvalidInput(_("Give a whole number of days, 0 or more."), field=field_name)
    try:
        days = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInput(_("Give a whole number of days, 0 or more."), field=field_name) from None
    if days < 0 or days > 36500:
        raise InvalidInput(_("Give a whole number of days, 0 or more."), field=field_name)
    return days


# --- shared helpers -------------------------------------------------------------------------------

def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def _local_day(value: datetime) -> date:
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


def _start_of(day: date) -> datetime:
    """The first moment of `day` in the office's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min)) if settings.USE_TZ else datetime.combine(day, time.min)


class _Records:
    """Builds a gap's record for one model: its admin change page from one reverse() per model, not per row."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model._meta.label_lower
        try:
            self.prefix = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:  # a model without an admin page: the record still names itself
            self.prefix = ""

    def __call__(self, pk: int, label: str) -> GapRecord:
        return GapRecord(self.model, pk, label, f"{self.prefix}{pk}/change/" if self.prefix else "")


def _medium_label(kind: str, serial: str, capacity: int | None = None) -> str:
    try:
        name = str(MediumKind(kind).label)
    except ValueError:
        name = kind
    size = f" {capacity} GB" if capacity else ""
    return f"{name}{size} {serial or _('without serial number')}"


def _status_label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@dataclass(frozen=True)
class _Context:
    """What one run checks against, and the translations it has looked up (once per run, not once per row:
    a register can have a hundred thousand gaps of one kind)."""

    today: date
    fault_open_days: int
    disk_destroy_days: int
    texts: dict = field(default_factory=dict, compare=False)

    def label(self, choices: type[models.TextChoices], value: str) -> str:
        key = (choices, value)
        if key not in self.texts:
            self.texts[key] = _status_label(choices, value)
        return self.texts[key]

    def plural(self, translate: Callable[[int], str], count: int) -> str:
        """`translate(count)`, an ngettext call written out at the call site (where makemessages finds it)."""
        key = (translate.__code__, count)
        if key not in self.texts:
            self.texts[key] = translate(count)
        return self.texts[key]


# --- 1. data that may have left the office --------------------------------------------------------

GONE_STATUSES = (DeviceStatus.TRANSFERRED, DeviceStatus.SCRAPPED)


def _data_left_office(ctx: _Context) -> list[Gap]:
    # The beneficiary exception: a device its beneficiary held without a break since its last wipe left
    # carrying only that beneficiary's data, and the completed transfer recorded it.
    def excepted(device: str) -> Exists:
        return Exists(TransferItem.objects.filter(device=OuterRef(device), exception_applied=True,
                                                  transfer__status=TransferStatus.COMPLETED))

    # Two queries rather than one with an OR between subqueries, which PostgreSQL can only run as a subplan
    # per gone device: each of these is a plain (anti) join.
    found: dict[int, dict] = {}
    for row in (media_inside_not_cleared().filter(device__status__in=GONE_STATUSES).filter(~excepted("device"))
                .order_by("device_id", "id")
                .values("device_id", "device__inventory_number", "device__status", "device__status_changed_at",
                        "kind", "serial_number", "capacity_gb")):
        device = found.setdefault(row["device_id"], {
            "number": row["device__inventory_number"], "status": row["device__status"],
            "left": row["device__status_changed_at"], "media": []})
        device["media"].append(_medium_label(row["kind"], row["serial_number"], row["capacity_gb"]))
    for row in (Device.objects.filter(status__in=GONE_STATUSES).filter(device_media_unaccounted())
                .filter(~excepted("pk")).values("pk", "inventory_number", "status", "status_changed_at")):
        found.setdefault(row["pk"], {"number": row["inventory_number"], "status": row["status"],
                                     "left": row["status_changed_at"], "media": []})
    record = _Records(Device)
    fix_media = _("Ask the recipient or the collector for the media back, or for a certificate of their wipe or "
                  "destruction, and file it with the device's records; if neither can be had, report a possible "
                  "personal data breach to the data protection officer.")
    fix_none = _("Ask the recipient or the collector whether the device holds a storage medium and file their "
                 "written answer with the device's records; if it does and its wipe cannot be proven, report a "
                 "possible personal data breach to the data protection officer.")
    gaps = []
    for pk, device in sorted(found.items(), key=lambda item: item[1]["number"]):
        left_on = _local_day(device["left"])
        facts = {"device": device["number"], "status": ctx.label(DeviceStatus, device["status"]),
                 "date": _day(left_on)}
        if device["media"]:
            problem = _("%(device)s left the office (%(status)s on %(date)s) with storage media inside that hold no "
                        "validated sanitization fit for leaving the office: %(media)s.") % {
                **facts, "media": ", ".join(device["media"])}
            fix = fix_media
        else:
            problem = _("%(device)s left the office (%(status)s on %(date)s) with no storage medium on record, and "
                        "nobody confirmed that it has none.") % facts
            fix = fix_none
        gaps.append(Gap(GapKind.DATA_LEFT_OFFICE.value, record(pk, device["number"]), problem, fix, left_on))
    return gaps


# --- 2. transfers their order does not cover ------------------------------------------------------

def _transfer_not_covered(ctx: _Context) -> list[Gap]:
    decided = (TransferStatus.APPROVED, TransferStatus.COMPLETED)
    uncovered_items = TransferItem.objects.filter(transfer__status__in=decided).exclude(transfer_item_in_annex())
    transfers = (
        Transfer.objects.filter(status__in=decided)
        .annotate(in_force=ExpressionWrapper(transfer_order_in_force(), output_field=BooleanField()),
                  kind_allowed=ExpressionWrapper(transfer_order_kind_allowed(), output_field=BooleanField()),
                  uncovered=Exists(uncovered_items.filter(transfer=OuterRef("pk"))))
        .filter(Q(in_force=False) | Q(kind_allowed=False) | Q(uncovered=True))
    )
    missing: dict[int, list[str]] = {}
    for transfer_id, number in (uncovered_items.filter(transfer__in=transfers.values("pk"))
                                .order_by("transfer_id", "device__inventory_number")
                                .values_list("transfer_id", "device__inventory_number")):
        missing.setdefault(transfer_id, []).append(number)
    order_kinds = dict(MayoralOrder._meta.get_field("kind").flatchoices)
    record = _Records(Transfer)
    gaps = []
    for row in transfers.order_by("number", "pk").values(
            "pk", "number", "status", "transfer_date", "override_reason", "in_force", "kind_allowed",
            "recipient__name", "order__number", "order__kind", "order__in_force_from", "order__in_force_until"):
        order = row["order__number"]
        reasons = []
        if not row["in_force"]:
            until = (_(" until %(date)s") % {"date": _day(row["order__in_force_until"])}
                     if row["order__in_force_until"] else "")
            reasons.append(_("Order no. %(number)s is in force from %(from)s%(until)s; the transfer is dated "
                             "%(date)s.") % {"number": order, "from": _day(row["order__in_force_from"]),
                                              "until": until, "date": _day(row["transfer_date"])})
        if not row["kind_allowed"]:
            reasons.append(_("Order no. %(number)s is about %(kind)s; a free transfer needs an order of free transfer "
                             "or donation.") % {"number": order,
                                                 "kind": str(order_kinds.get(row["order__kind"], row["order__kind"]))})
        devices = missing.get(row["pk"])
        if devices:
            reasons.append(_("Neither listed in the annex of order no. %(number)s nor held by a beneficiary listed "
                             "in it: %(devices)s.") % {"number": order, "devices": ", ".join(devices)})
        if row["override_reason"]:
            reasons.append(_("The legal office approved it with an override: %(reason)s")
                           % {"reason": row["override_reason"]})
        problem = _("Transfer %(number)s to %(recipient)s (%(status)s, dated %(date)s) is not covered by its "
                    "order: %(reasons)s") % {"number": row["number"], "recipient": row["recipient__name"],
                                             "status": ctx.label(TransferStatus, row["status"]),
                                             "date": _day(row["transfer_date"]), "reasons": " ".join(reasons)}
        if row["status"] == TransferStatus.COMPLETED:
            fix = _("The devices have already left: ask the mayor for an order that covers this transfer (or an "
                    "amendment of order no. %(number)s listing them), register it and file it with the transfer.") % {
                "number": order}
        elif row["in_force"] and row["kind_allowed"]:
            fix = _("Before completing it, add the devices (or the beneficiary who holds them) to the annex of order "
                    "no. %(number)s; otherwise cancel the transfer.") % {"number": order}
        else:
            fix = _("Do not complete it: cancel the transfer and prepare it again under an order of free transfer "
                    "that is in force on the transfer date and lists the devices.")
        gaps.append(Gap(GapKind.TRANSFER_NOT_COVERED.value, record(row["pk"], row["number"]), problem, fix,
                        row["transfer_date"]))
    return gaps


# --- 3. owner changed within the durability period -------------------------------------------------

def _durability_breach(ctx: _Context) -> list[Gap]:
    project = "device__project_device__project__"
    found: dict[int, dict] = {}
    for row in transfers_within_durability().values(
            "device_id", "device__inventory_number", "transfer__number", "transfer__transfer_date",
            f"{project}name", f"{project}durability_ends_on"):
        found.setdefault(row["device_id"], {
            "number": row["device__inventory_number"], "on": row["transfer__transfer_date"],
            "how": _("transfer %(number)s") % {"number": row["transfer__number"]},
            "project": row[f"{project}name"], "end": row[f"{project}durability_ends_on"]})
    for row in liquidations_within_durability().values(
            "device_id", "device__inventory_number", "liquidation__number", "liquidation__handed_over_on",
            f"{project}name", f"{project}durability_ends_on"):
        found.setdefault(row["device_id"], {
            "number": row["device__inventory_number"], "on": row["liquidation__handed_over_on"],
            "how": _("liquidation %(number)s") % {"number": row["liquidation__number"]},
            "project": row[f"{project}name"], "end": row[f"{project}durability_ends_on"]})
    record = _Records(Device)
    gaps = []
    for pk, facts in sorted(found.items(), key=lambda item: item[1]["number"]):
        problem = _("%(device)s, bought by the project %(project)s, changed owner on %(date)s (%(how)s), within the "
                    "project's durability period, which lasts until %(end)s.") % {
            "device": facts["number"], "project": facts["project"], "date": _day(facts["on"]),
            "how": facts["how"], "end": _day(facts["end"])}
        fix = _("If the final payment date or the durability period of the project %(project)s is recorded wrongly, "
                "correct it on the project; otherwise tell the funding body of the breach and file its answer with "
                "the project's records.") % {"project": facts["project"]}
        gaps.append(Gap(GapKind.DURABILITY_BREACH.value, record(pk, facts["number"]), problem, fix, facts["on"]))
    return gaps


# --- 4. and 5. loans ------------------------------------------------------------------------------

def _loan_label(pk: int, recipient: str) -> str:
    return _("Loan %(id)s to %(recipient)s") % {"id": pk, "recipient": recipient}


def _loan_without_agreement(ctx: _Context) -> list[Gap]:
    record = _Records(Loan)
    fix = _("Issue the loan agreement for this loan, have the recipient sign it and keep the signed copy.")
    gaps = []
    for row in (Loan.objects.filter(~loan_has_agreement()).order_by("pk")
                .values("pk", "starts_on", "status", "recipient__name")):
        label = _loan_label(row["pk"], row["recipient__name"])
        problem = _("No loan agreement was issued for loan %(id)s to %(recipient)s (%(status)s, from %(date)s).") % {
            "id": row["pk"], "recipient": row["recipient__name"], "status": ctx.label(LoanStatus, row["status"]),
            "date": _day(row["starts_on"])}
        gaps.append(Gap(GapKind.LOAN_WITHOUT_AGREEMENT.value, record(row["pk"], label), problem, fix, row["starts_on"]))
    return gaps


def _loan_overdue(ctx: _Context) -> list[Gap]:
    record = _Records(Loan)
    fixes = {
        LoanPurpose.COUNCIL_SESSIONS: _("Take the devices back from the councillor (the loan's return, with its "
                                        "protocol), or extend the loan if they keep them for the new term."),
        LoanPurpose.GRANT_PROJECT: _("Complete the free transfer of the set to the beneficiary under the mayor's "
                                     "order, take the devices back (the loan's return), or extend the loan."),
    }
    fix_other = _("Take the devices back (the loan's return, with its protocol), or extend the loan's planned end "
                  "if the recipient keeps them.")
    def overdue(n: int) -> str:
        return ngettext("Loan %(id)s to %(recipient)s was to end on %(date)s; it is %(days)d day overdue.",
                        "Loan %(id)s to %(recipient)s was to end on %(date)s; it is %(days)d days overdue.", n)

    gaps = []
    for row in (overdue_loans(today=ctx.today).order_by("pk")
                .values("pk", "planned_end_on", "purpose", "recipient__name")):
        days = (ctx.today - row["planned_end_on"]).days
        problem = ctx.plural(overdue, days) % {"id": row["pk"], "recipient": row["recipient__name"],
                                               "date": _day(row["planned_end_on"]), "days": days}
        gaps.append(Gap(GapKind.LOAN_OVERDUE.value, record(row["pk"], _loan_label(row["pk"], row["recipient__name"])),
                        problem, fixes.get(row["purpose"], fix_other), row["planned_end_on"] + timedelta(days=1)))
    return gaps


# --- 6. faults open too long ----------------------------------------------------------------------

def _fault_open_too_long(ctx: _Context) -> list[Gap]:
    record = _Records(FaultReport)
    limit = ctx.fault_open_days
    fix = _("Resolve it, replace the device, or reject the report with a reason; the reporter is told of each step.")
    def still_open(n: int) -> str:
        return ngettext(
            "Fault %(id)s on %(device)s (%(category)s), reported on %(date)s, is still %(status)s after %(days)d day "
            "(the limit is %(limit)d).",
            "Fault %(id)s on %(device)s (%(category)s), reported on %(date)s, is still %(status)s after %(days)d days "
            "(the limit is %(limit)d).", n)

    gaps = []
    for row in (open_faults().filter(created_at__lt=_start_of(ctx.today - timedelta(days=limit)))
                .order_by("pk").values("pk", "created_at", "status", "category", "device__inventory_number")):
        reported = _local_day(row["created_at"])
        days = (ctx.today - reported).days
        problem = ctx.plural(still_open, days) % {
            "id": row["pk"], "device": row["device__inventory_number"],
            "category": ctx.label(FaultCategory, row["category"]), "date": _day(reported),
            "status": ctx.label(FaultStatus, row["status"]), "days": days, "limit": limit}
        label = _("Fault %(id)s: %(device)s") % {"id": row["pk"], "device": row["device__inventory_number"]}
        gaps.append(Gap(GapKind.FAULT_OPEN_TOO_LONG.value, record(row["pk"], label), problem, fix,
                        reported + timedelta(days=limit + 1)))
    return gaps


# --- 7. removed disks not destroyed ---------------------------------------------------------------

def _disk_not_destroyed(ctx: _Context) -> list[Gap]:
    record = _Records(DiskRemoval)
    limit = ctx.disk_destroy_days
    fix = _("Hand it to a certified company for destruction (shredding or disintegration) and record the "
            "destruction with the certificate's number and scan.")
    def still_held(n: int) -> str:
        return ngettext(
            "%(medium)s, taken out of %(device)s on %(date)s, is still held at %(kept_at)s by %(held_by)s, not "
            "destroyed, after %(days)d day (the limit is %(limit)d).",
            "%(medium)s, taken out of %(device)s on %(date)s, is still held at %(kept_at)s by %(held_by)s, not "
            "destroyed, after %(days)d days (the limit is %(limit)d).", n)

    gaps = []
    for row in (removals_held(removed_before=_start_of(ctx.today - timedelta(days=limit)))
                .order_by("removed_at", "pk")
                .values("pk", "removed_at", "kept_at", "held_by", "medium__kind", "medium__serial_number",
                        "medium__capacity_gb", "device__inventory_number")):
        removed = _local_day(row["removed_at"])
        days = (ctx.today - removed).days
        medium = _medium_label(row["medium__kind"], row["medium__serial_number"], row["medium__capacity_gb"])
        problem = ctx.plural(still_held, days) % {
            "medium": medium, "device": row["device__inventory_number"], "date": _day(removed),
            "kept_at": row["kept_at"], "held_by": row["held_by"], "days": days, "limit": limit}
        label = f"{medium} ← {row['device__inventory_number']}"
        gaps.append(Gap(GapKind.DISK_NOT_DESTROYED.value, record(row["pk"], label), problem, fix,
                        removed + timedelta(days=limit + 1)))
    return gaps


# --- 8. documents missing or altered --------------------------------------------------------------

def _file_state(document: StoredDocument, storage) -> str:
    """"ok", "missing" or "altered": the stored file against the size and SHA-256 recorded at issue."""
    name = document.file.name
    if not name:
        return "missing"
    try:
        size = storage.size(name)
    except (OSError, ValueError, SuspiciousFileOperation):
        return "missing"
    if size != document.size:
        return "altered"  # no need to read it
    try:
        with open_stream(storage, name) as stream:
            return "ok" if document_matches_file(document, stream) else "altered"
    except (OSError, ValueError, SuspiciousFileOperation):
        return "missing"


def _document_altered(ctx: _Context) -> list[Gap]:
    storage = StoredDocument._meta.get_field("file").storage
    kinds = dict(StoredDocument._meta.get_field("kind").flatchoices)
    record = _Records(StoredDocument)
    fix = _("Restore the file from a backup copy whose SHA-256 matches the record, and find out how the stored copy "
            "was lost or changed; if no intact copy exists, report it to the data protection officer and issue the "
            "document again.")
    gaps = []
    documents = StoredDocument.objects.only("pk", "code", "kind", "title", "file", "sha256", "size", "issued_at")
    for document in documents.order_by("pk").iterator(chunk_size=2000):
        state = _file_state(document, storage)
        if state == "ok":
            continue
        facts = {"kind": str(kinds.get(document.kind, document.kind)), "code": document.code,
                 "title": document.title, "date": _day(document.issued_at)}
        if state == "missing":
            problem = _("The stored file of the %(kind)s %(code)s (“%(title)s”, issued on %(date)s) is "
                        "missing.") % facts
        else:
            problem = _("The stored file of the %(kind)s %(code)s (“%(title)s”, issued on %(date)s) no longer matches "
                        "the SHA-256 recorded when it was issued: it was changed or damaged.") % facts
        gaps.append(Gap(GapKind.DOCUMENT_ALTERED.value, record(document.pk, document.code), problem, fix, None))
    gaps.sort(key=lambda gap: gap.record.label)
    return gaps


# --- 9. devices in use past their expected life ---------------------------------------------------

IN_USE_STATUSES = (DeviceStatus.IN_USE, DeviceStatus.ON_LOAN)


def _bought_before(today: date, years: int) -> date:
    """The earliest purchase date whose expected life of `years` is not over on `today`: a device bought
    before it reached the end of its life (purchase date + `years`, donations.models.add_years) before today."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    while add_years(day - timedelta(days=1), years) >= today:
        day -= timedelta(days=1)
    while add_years(day, years) < today:
        day += timedelta(days=1)
    return day


def _past_expected_life(ctx: _Context) -> list[Gap]:
    in_use = Device.objects.filter(status__in=IN_USE_STATUSES)
    lives = sorted(in_use.order_by().values_list("expected_life_years", flat=True).distinct())
    if not lives:
        return []
    past = Q()
    for years in lives:
        past |= Q(expected_life_years=years, purchase_date__lt=_bought_before(ctx.today, years))
    record = _Records(Device)
    fix = _("Plan its replacement and retire it as past its expected life (a device on loan comes back through its "
            "loan's return first); if it is fit for longer, record a longer expected life on the device.")
    def past_life(n: int) -> str:
        return ngettext(
            "%(device)s, bought on %(date)s, reached its expected life of %(years)d year on %(end)s and is still "
            "%(status)s.",
            "%(device)s, bought on %(date)s, reached its expected life of %(years)d years on %(end)s and is still "
            "%(status)s.", n)

    gaps = []
    for row in (in_use.filter(past).order_by("inventory_number")
                .values("pk", "inventory_number", "purchase_date", "expected_life_years", "status")):
        years = row["expected_life_years"]
        end = add_years(row["purchase_date"], years)
        problem = ctx.plural(past_life, years) % {
            "device": row["inventory_number"], "date": _day(row["purchase_date"]), "years": years, "end": _day(end),
            "status": ctx.label(DeviceStatus, row["status"])}
        gaps.append(Gap(GapKind.PAST_EXPECTED_LIFE.value, record(row["pk"], row["inventory_number"]), problem, fix,
                        end + timedelta(days=1)))
    return gaps


CHECKS: dict[str, Callable[[_Context], list[Gap]]] = {
    GapKind.DATA_LEFT_OFFICE: _data_left_office,
    GapKind.TRANSFER_NOT_COVERED: _transfer_not_covered,
    GapKind.DURABILITY_BREACH: _durability_breach,
    GapKind.LOAN_WITHOUT_AGREEMENT: _loan_without_agreement,
    GapKind.LOAN_OVERDUE: _loan_overdue,
    GapKind.FAULT_OPEN_TOO_LONG: _fault_open_too_long,
    GapKind.DISK_NOT_DESTROYED: _disk_not_destroyed,
    GapKind.DOCUMENT_ALTERED: _document_altered,
    GapKind.PAST_EXPECTED_LIFE: _past_expected_life,
}


def run_check(*, today: date | None = None, fault_open_days: int | None = None, disk_destroy_days: int | None = None,
              kinds: Iterable[str] | None = None) -> ComplianceReport:
    """Check the whole register for the gaps of `kinds` (all by default) as it stands on `today`.

    `fault_open_days` and `disk_destroy_days` default to the settings COMPLIANCE_FAULT_OPEN_DAYS and
    COMPLIANCE_DISK_DESTROY_DAYS. A bad value raises InvalidInput naming it (``kind``, ``fault_open_days``,
    ``disk_destroy_days``). The texts are in the active language.

    The gaps come by kind, in GapKind's order, then by record: devices by inventory number, transfers by
    number, documents by code, loans and faults by number, removed disks by the day they were taken out.
    """
    asked = parse_kinds(kinds)
    ctx = _Context(
        today=today or timezone.localdate(),
        fault_open_days=parse_days(fault_open_days, default=settings.COMPLIANCE_FAULT_OPEN_DAYS,
                                   field_name="fault_open_days"),
        disk_destroy_days=parse_days(disk_destroy_days, default=settings.COMPLIANCE_DISK_DESTROY_DAYS,
                                     field_name="disk_destroy_days"),
    )
    checked_at = timezone.now()
    gaps: list[Gap] = []
    counts: dict[str, int] = {}
    for kind in asked:
        found = CHECKS[kind](ctx)
        counts[kind] = len(found)
        gaps.extend(found)
    parameters = {"today": ctx.today.isoformat(), "fault_open_days": ctx.fault_open_days,
                  "disk_destroy_days": ctx.disk_destroy_days, "kinds": asked}
    return ComplianceReport(gaps=gaps, counts=counts, checked_at=checked_at, parameters=parameters)
