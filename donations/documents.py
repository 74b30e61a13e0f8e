"""Documents of the donations app: the free transfer protocol (protokół nieodpłatnego przekazania), the
liquidation protocol (protokół likwidacji) and the report on a grant project's durability period for the
funding body (raport z okresu trwałości projektu).

Each is issued into the core registry with its subject (the transfer, the liquidation, the project), so it
carries a verification code and can be checked at /verify/<code>/. Titles are public on the verification
page: they name the record's number, never a recipient. Every document is built from a fixed number of
queries: a transfer of thirty devices costs what a transfer of two costs, and the durability report of a
project of 150 beneficiaries and 900 devices what the report of a project of two costs
(`durability_figures` reads it set-based).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, TableStyle

from assets.choices import DeviceStatus
from assets.models import DeviceEvent
from core import pdf
from core.choices import DocumentKind
from core.models import StoredDocument
from core.services import document_issue
from donations.choices import DEFAULT_WASTE_CODE, BeneficiaryKind, LegalCheck, TransferStatus
from donations.models import (
    Beneficiary,
    GrantProject,
    Liquidation,
    LiquidationItem,
    MayoralOrder,
    ProjectDevice,
    ProjectObligation,
    Transfer,
    TransferItem,
)
from donations.selectors import obligation_coverage
from loans.choices import LoanEventKind
from loans.models import LoanEvent, LoanItem

__all__ = ["transfer_protocol_issue", "liquidation_protocol_issue", "durability_report_issue",
           "durability_figures", "DurabilityFigures", "format_kg"]

TRANSFER_PROTOCOL_TEMPLATE = "transfer-protocol/1"
LIQUIDATION_PROTOCOL_TEMPLATE = "liquidation-protocol/1"
DURABILITY_REPORT_TEMPLATE = "durability-report/1"

_NBSP = "\u00a0"
_FAILED = colors.HexColor("#fbe3df")  # the row of a check that did not pass


# --- the toolkit of these documents --------------------------------------------------------------


def _month(value: date) -> str:
    return value.strftime("%m.%Y")


def _decimal_comma(value: Decimal, places: int) -> str:
    """A number as Polish documents print it: a space between thousands, a decimal comma."""
    whole, _sep, fraction = f"{value:,.{places}f}".partition(".")
    whole = whole.replace(",", _NBSP)
    return f"{whole},{fraction}" if fraction else whole


def format_kg(value: Decimal) -> str:
    """A mass in kilograms with a decimal comma and no trailing zeros: 12,5 kg; 1 234,125 kg; 3 kg."""
    whole, _sep, fraction = _decimal_comma(Decimal(value), 3).partition(",")
    fraction = fraction.rstrip("0")
    return f"{whole},{fraction}{_NBSP}kg" if fraction else f"{whole}{_NBSP}kg"


def _count(value: int) -> str:
    return _decimal_comma(Decimal(value), 0)


def _percent(part: int, whole: int) -> str:
    return "—" if not whole else f"{_decimal_comma(Decimal(part * 100) / Decimal(whole), 1)}{_NBSP}%"


def _order_rows(order: MayoralOrder) -> list[tuple[str, object]]:
    if order.in_force_until:
        in_force = _("from %(from)s to %(until)s") % {"from": pdf.format_date(order.in_force_from),
                                                     "until": pdf.format_date(order.in_force_until)}
    else:
        in_force = _("from %(from)s until repealed") % {"from": pdf.format_date(order.in_force_from)}
    rows: list[tuple[str, object]] = [
        (_("Order no."), order.number),
        (_("Signed on"), pdf.format_date(order.signed_on)),
        (_("Signed by"), order.signatory),
        (pgettext("title of an order", "Title"), order.title),
        (_("Kind"), order.get_kind_display()),
        (_("Legal basis"), order.legal_basis),
        (_("In force"), in_force),
    ]
    if order.scan_sha256:
        rows.append((_("SHA-256 of the signed scan"), pdf.para(order.scan_sha256, "small")))
    return rows


def _device_cells(device) -> list[str]:
    return [device.inventory_number, device.get_kind_display(), f"{device.manufacturer} {device.model}".strip(),
            device.serial_number or "—"]


# --- the free transfer protocol ------------------------------------------------------------------

def _check_label(check: dict) -> str:
    try:
        return str(LegalCheck(check.get("check")).label)
    except ValueError:
        return check.get("label") or check.get("check") or "—"


def _check_result(check: dict, *, overridden: bool) -> str:
    if check.get("passed"):
        return _("passed (beneficiary exception)") if check.get("exception_applied") else pgettext("legal check",
                                                                                                   "passed")
    if overridden and check.get("overridable"):
        return _("failed; overridden with reasons")
    return pgettext("legal check", "failed")


def _data_cell(number: str, checks: list[dict], excepted: set[str]) -> str:
    if number in excepted:
        return _("beneficiary exception *")
    data = [c for c in checks if c.get("check") == LegalCheck.DATA_GONE and c.get("device") == number]
    return _("sanitized") if data and all(c.get("passed") for c in data) else "—"


def _transfer_story(transfer: Transfer, items: list[TransferItem], beneficiary: Beneficiary | None) -> list:
    order, recipient = transfer.order, transfer.recipient
    checks = list(transfer.checks or [])
    excepted = ({c.get("device") for c in checks if c.get("exception_applied")}
                | {item.device.inventory_number for item in items if item.exception_applied})
    overridden = bool(transfer.override_reason)
    day = pdf.format_date(transfer.transfer_date)
    parties: list[tuple[str, object]] = [
        (_("Giving party"), pdf.organization()),
        (_("Recipient"), f"{recipient.name} ({recipient.get_kind_display()})"),
        (_("Recipient's address"), recipient.address),
    ]
    if beneficiary is not None:
        project = beneficiary.project
        parties += [
            (_("Beneficiary code"), beneficiary.code),
            (_("Grant project"), f"{project.name} ({project.agreement_number})"),
            (_("Durability period ends on"), pdf.format_date(project.durability_ends_on)),
        ]
    parties.append((_("Transfer date"), day))
    story: list[Flowable] = [
        pdf.para(_("Free transfer protocol no. %(number)s") % {"number": transfer.number}, "title"),
        pdf.para(_("Drawn up on %(date)s on the free transfer of ownership of the devices listed below, under order "
                   "no. %(order)s of %(signed)s.") % {"date": day, "order": order.number,
                                                     "signed": pdf.format_date(order.signed_on)}, "body"),
        pdf.h2(pgettext("mayoral order", "Order")),
        pdf.kv_table(_order_rows(order)),
        pdf.h2(_("Parties")),
        pdf.kv_table(parties),
        pdf.h2(_("Devices transferred (%(count)d)") % {"count": len(items)}),
        pdf.grid([_("No."), _("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number"),
               _("Data on the device")],
              [[str(n), *_device_cells(item.device), _data_cell(item.device.inventory_number, checks, excepted)]
               for n, item in enumerate(items, start=1)],
              pdf.rest_widths(8 * mm, 34 * mm, 20 * mm, 36 * mm, 30 * mm)),
    ]
    if excepted:
        story.append(pdf.para(_("* Beneficiary exception: the recipient has held the device without a break since it "
                             "was last sanitized (or, if never, since it was registered), so it carries only the "
                             "recipient's own data and passes to them without a wipe."), "note"))
    story += [
        pdf.h2(_("Legal check, item by item")),
        pdf.para(_("The checks of the transfer as they stood when it was completed; a device is named where the "
                   "check concerns it."), "body"),
        Spacer(1, 2 * mm),
    ]
    if checks:
        table = pdf.grid(
            [pgettext("legal check", "Check"), _("Device"), _("Result"), _("Explanation")],
            [[_check_label(c), c.get("device") or _("the whole transfer"), _check_result(c, overridden=overridden),
              c.get("message")] for c in checks],
            pdf.rest_widths(42 * mm, 34 * mm, 24 * mm))
        table.setStyle(TableStyle([("BACKGROUND", (0, row), (-1, row), _FAILED)
                                   for row, c in enumerate(checks, start=1) if not c.get("passed")]))
        story.append(table)
    else:
        story.append(pdf.para(_("No check is recorded."), "body"))
    decision: list[tuple[str, object]] = [
        (_("Decided by"), pdf.person(transfer.decided_by)),
        (_("Decided at"), pdf.format_date(transfer.decided_at)),
    ]
    if transfer.decision_reason:
        decision.append((_("Reasons of the decision"), transfer.decision_reason))
    story.append(pdf.h2(_("Approval by the legal office")))
    if overridden:
        failed = sorted({_check_label(c) for c in checks if not c.get("passed")})
        story += [
            pdf.para(_("The legal office approved the transfer although not every check passed, with the reasoned "
                       "override below."), "body"),
            Spacer(1, 2 * mm),
        ]
        decision += [(_("Checks overridden"), "; ".join(failed) or "—"),
                     (_("Reasoned override"), transfer.override_reason)]
    else:
        story += [pdf.para(_("Every check passed; the legal office approved the transfer."), "body"), Spacer(1, 2 * mm)]
    story.append(pdf.kv_table(decision))
    statement = [
        pdf.para(_("On %(date)s the giving party transfers to the recipient, free of charge, the ownership of the "
                   "devices listed above (%(count)d), under order no. %(order)s. The recipient accepts them and "
                   "confirms receiving them; from this day the devices leave the office's register of fixed assets.")
                 % {"date": day, "count": len(items), "order": order.number}, "body"),
        Spacer(1, 2 * mm),
        pdf.para(_("The protocol is made in two identical copies, one for each party."), "body"),
    ]
    story.append(pdf.signatures([(_("For the giving party (signature)"), settings.ORGANIZATION_NAME),
                              (_("Recipient (signature)"), recipient.name)],
                             lead=[Spacer(1, 4 * mm), *statement]))
    return story


def transfer_protocol_issue(*, transfer: Transfer, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the free transfer protocol (protokół nieodpłatnego przekazania na własność): the order, the
    giving office and the recipient (with its beneficiary code and project), the devices, the legal check
    item by item with the lawyer's reasoned override if any, the statement that ownership passes free of
    charge, and the signatures of both parties.

    Called by donations.services.transfer_complete before it saves the transfer: the status, the checks and
    the completion moment are read from `transfer` as given, not from the database.
    """
    items = list(TransferItem.objects.filter(transfer=transfer).select_related("device")
                 .order_by("device__inventory_number"))
    beneficiary = Beneficiary.objects.filter(recipient_id=transfer.recipient_id).select_related("project").first()
    title = _("Free transfer protocol no. %(number)s") % {"number": transfer.number}
    return document_issue(
        kind=DocumentKind.TRANSFER_PROTOCOL, title=title, subject=transfer, by=by,
        template_version=TRANSFER_PROTOCOL_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_transfer_story(transfer, items, beneficiary), stamp=stamp),
    )


# --- the liquidation protocol ---------------------------------------------------------------------

def _load_liquidation(liquidation: Liquidation) -> Liquidation:
    return (Liquidation.objects.select_related("order", "recorded_by")
            .prefetch_related(Prefetch("items", queryset=LiquidationItem.objects.select_related("device")
                                       .order_by("device__inventory_number")))
            .get(pk=liquidation.pk))


def _certificates(device_ids: list[int]) -> dict[int, StoredDocument | None]:
    """The certificate of sanitization of each device: the document of its latest move to "sanitized"."""
    latest: dict[int, StoredDocument | None] = {}
    for event in (DeviceEvent.objects.filter(device_id__in=device_ids, to_status=DeviceStatus.SANITIZED)
                  .select_related("document").order_by("occurred_at", "id")):
        latest[event.device_id] = event.document
    return latest


def _certificate_cell(document: StoredDocument | None) -> str:
    if document is None:
        return "—"
    return f"{document.code}\n{pdf.format_date(timezone.localdate(document.issued_at))}"


def _liquidation_story(liquidation: Liquidation, certificates: dict[int, StoredDocument | None]) -> list:
    order = liquidation.order
    devices = [item.device for item in liquidation.items.all()]
    day = pdf.format_date(liquidation.handed_over_on)
    waste = liquidation.waste_code
    if waste == DEFAULT_WASTE_CODE:
        waste = _("%(code)s – discarded equipment other than that mentioned in 16 02 09 to 16 02 13") % {
            "code": waste}
    handover: list[tuple[str, object]] = [
        (_("Handed over on"), day),
        (_("Collector"), liquidation.collector_name),
        (_("Collector's BDO registry number"), liquidation.collector_bdo),
        (_("Waste transfer card (KPO) number"), liquidation.kpo_number),
        (_("Waste code"), waste),
        (_("Mass"), format_kg(liquidation.mass_kg)),
        (_("Number of devices"), str(len(devices))),
        (_("Scan of the KPO on file"), _("yes") if liquidation.kpo_scan else _("no")),
    ]
    if liquidation.notes:
        handover.append((_("Notes"), liquidation.notes))
    handover.append((_("Recorded by"), pdf.person(liquidation.recorded_by)))
    story: list[Flowable] = [
        pdf.para(_("Liquidation protocol no. %(number)s") % {"number": liquidation.number}, "title"),
        pdf.para(_("Drawn up on %(date)s: under order no. %(order)s the devices listed below, withdrawn from use and "
                   "sanitized, were handed over as waste electrical and electronic equipment to an authorised "
                   "collector, and leave the office's register of fixed assets.")
                 % {"date": day, "order": order.number}, "body"),
        pdf.h2(pgettext("mayoral order", "Order")),
        pdf.kv_table(_order_rows(order)),
        pdf.h2(_("Handover of the waste")),
        pdf.kv_table(handover),
        pdf.h2(_("Devices scrapped (%(count)d)") % {"count": len(devices)}),
        pdf.grid([_("No."), _("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number"),
               _("Certificate of sanitization")],
              [[str(n), *_device_cells(d), _certificate_cell(certificates.get(d.pk))]
               for n, d in enumerate(devices, start=1)],
              pdf.rest_widths(8 * mm, 34 * mm, 18 * mm, 36 * mm, 30 * mm)),
        pdf.para(_("Each certificate of sanitization can be checked by its code at %(url)s.")
              % {"url": f"{settings.SITE_URL}/verify/"}, "note"),
    ]
    statement = [
        pdf.para(_("The liquidation commission confirms that on %(date)s the devices listed above (%(count)d) were "
                   "handed over to %(collector)s (BDO registry number %(bdo)s) under waste transfer card no. %(kpo)s, "
                   "and that every storage medium in them was sanitized, as the certificates named above show, "
                   "before they left the office.")
                 % {"date": day, "count": len(devices), "collector": liquidation.collector_name,
                    "bdo": liquidation.collector_bdo, "kpo": liquidation.kpo_number}, "body"),
    ]
    name_line = _("name and surname")
    story.append(pdf.signatures([(_("Chair of the liquidation commission (signature)"), name_line),
                              (_("Member of the commission (signature)"), name_line),
                              (_("Member of the commission (signature)"), name_line),
                              (_("For the collector (signature)"), liquidation.collector_name)],
                             lead=[Spacer(1, 4 * mm), *statement]))
    return story


def liquidation_protocol_issue(*, liquidation: Liquidation, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the liquidation protocol (protokół likwidacji): the order, the handover of the waste to the
    collector (BDO registry number, KPO number, waste code, mass), every device with its serial number and
    the code of its certificate of sanitization, and the signatures of the three members of the liquidation
    commission and of the collector."""
    liquidation = _load_liquidation(liquidation)
    certificates = _certificates([item.device_id for item in liquidation.items.all()])
    title = _("Liquidation protocol no. %(number)s") % {"number": liquidation.number}
    return document_issue(
        kind=DocumentKind.LIQUIDATION_PROTOCOL, title=title, subject=liquidation, by=by,
        template_version=LIQUIDATION_PROTOCOL_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_liquidation_story(liquidation, certificates),
                                       stamp=stamp),
    )


# --- the report on a project's durability period --------------------------------------------------

@dataclass(frozen=True)
class KindFigures:
    """The beneficiaries of one kind and the project's devices they hold and received."""

    kind: str
    beneficiaries: int
    active: int
    held: int
    transferred: int

    @property
    def label(self) -> str:
        return str(BeneficiaryKind(self.kind).label)


@dataclass(frozen=True)
class CoverageYear:
    """One calendar year of an obligation: its months, how many had proof for everyone, and the proofs."""

    year: int
    months: int
    complete: int
    recorded: int
    expected: int


@dataclass
class ObligationFigures:
    obligation: ProjectObligation
    expected: int  # beneficiaries the obligation applies to, each month
    years: list[CoverageYear] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)  # months with fewer proofs than beneficiaries

    @property
    def total(self) -> CoverageYear:
        return CoverageYear(0, sum(y.months for y in self.years), sum(y.complete for y in self.years),
                            sum(y.recorded for y in self.years), sum(y.expected for y in self.years))


@dataclass
class DurabilityFigures:
    """What the durability report states, read in a fixed number of queries whatever the project's size."""

    project: GrantProject
    on: date
    devices_by_status: dict[str, int]
    kinds: list[KindFigures]
    obligations: list[ObligationFigures]
    lost: list[DeviceEvent]
    replaced: list[LoanEvent]
    transfers: list[Transfer]

    @property
    def devices_total(self) -> int:
        return sum(self.devices_by_status.values())


def _by_kind(rows, key: str) -> dict[str, int]:
    return {row[key]: row["n"] for row in rows}


def _coverage(obligation: ProjectObligation, on: date) -> ObligationFigures:
    months = obligation_coverage(obligation, until=on)
    figures = ObligationFigures(obligation, months[0]["expected"] if months else 0)
    for year in sorted({m["month"].year for m in months}):
        of_year = [m for m in months if m["month"].year == year]
        figures.years.append(CoverageYear(
            year, len(of_year), sum(1 for m in of_year if m["recorded"] >= m["expected"]),
            sum(min(m["recorded"], m["expected"]) for m in of_year), sum(m["expected"] for m in of_year)))
    figures.gaps = [m for m in months if m["recorded"] < m["expected"]]
    return figures


def durability_figures(*, project: GrantProject, on: date | None = None) -> DurabilityFigures:
    """The figures of a project's durability report as of `on` (today by default).

    Set-based: one query each for the project, its devices by status, its beneficiaries by kind, the devices
    they hold, the devices transferred to them, the lost devices, the replacements and the transfers, and two
    per obligation (selectors.obligation_coverage) — never a query per beneficiary or per device. Holdings
    and device states are as recorded now; obligations, losses, replacements and transfers count up to `on`.
    """
    on = on or timezone.localdate()
    project = GrantProject.objects.select_related("manager").get(pk=project.pk)
    of_project = Q(device__project_device__project=project)
    statuses = _by_kind(ProjectDevice.objects.filter(project=project).values("device__status")
                        .annotate(n=Count("id")), "device__status")
    beneficiaries = {row["kind"]: row for row in Beneficiary.objects.filter(project=project).values("kind")
                     .annotate(n=Count("id"), active=Count("id", filter=Q(is_active=True)))}
    held = _by_kind(LoanItem.objects.filter(of_project, is_open=True, loan__recipient__beneficiary__project=project)
                    .values("loan__recipient__beneficiary__kind").annotate(n=Count("device", distinct=True)),
                    "loan__recipient__beneficiary__kind")
    transferred = _by_kind(
        TransferItem.objects.filter(of_project, transfer__status=TransferStatus.COMPLETED,
                                    transfer__transfer_date__lte=on,
                                    transfer__recipient__beneficiary__project=project)
        .values("transfer__recipient__beneficiary__kind").annotate(n=Count("device", distinct=True)),
        "transfer__recipient__beneficiary__kind")
    kinds = [KindFigures(kind, beneficiaries.get(kind, {}).get("n", 0), beneficiaries.get(kind, {}).get("active", 0),
                         held.get(kind, 0), transferred.get(kind, 0))
             for kind in BeneficiaryKind.values if kind in beneficiaries or kind in held or kind in transferred]
    obligations = [_coverage(o, on) for o in ProjectObligation.objects.filter(project=project)
                   .order_by("kind", "starts_on", "id")]
    lost: dict[int, DeviceEvent] = {}
    for event in (DeviceEvent.objects.filter(of_project, device__status=DeviceStatus.LOST,
                                             to_status=DeviceStatus.LOST, occurred_at__date__lte=on)
                  .select_related("device").order_by("occurred_at", "id")):
        lost[event.device_id] = event  # the latest loss of each device
    replaced = list(LoanEvent.objects.filter(kind=LoanEventKind.REPLACED, occurred_at__date__lte=on,
                                             loan__recipient__beneficiary__project=project)
                    .select_related("loan__recipient__beneficiary").order_by("occurred_at", "id"))
    transfers = list(Transfer.objects.filter(status=TransferStatus.COMPLETED, transfer_date__lte=on,
                                             items__device__project_device__project=project)
                     .annotate(project_devices=Count("items", distinct=True))
                     .select_related("order", "recipient__beneficiary", "protocol")
                     .order_by("transfer_date", "number"))
    return DurabilityFigures(project=project, on=on, devices_by_status=statuses, kinds=kinds, obligations=obligations,
                             lost=sorted(lost.values(), key=lambda e: e.device.inventory_number), replaced=replaced,
                             transfers=transfers)


def _who(recipient) -> str:
    """A recipient as the report names it: the beneficiary code first, when it is one."""
    try:
        code = recipient.beneficiary.code
    except Beneficiary.DoesNotExist:
        return recipient.name
    return f"{code} – {recipient.name}"


def _project_rows(figures: DurabilityFigures) -> list[tuple[str, object]]:
    project, on = figures.project, figures.on
    if project.durability_over_on(on):
        state = _("over since %(date)s") % {"date": pdf.format_date(project.durability_ends_on)}
    else:
        state = _("running: %(days)d days left on %(date)s") % {
            "days": (project.durability_ends_on - on).days + 1, "date": pdf.format_date(on)}
    return [
        (_("Project"), project.name),
        (_("Funding programme"), project.programme),
        (_("Grant agreement number"), project.agreement_number),
        (_("Implementation"), f"{pdf.format_date(project.starts_on)} – {pdf.format_date(project.ends_on)}"),
        (_("Final payment received on"), pdf.format_date(project.final_payment_on)),
        (_("Durability period"), ngettext("%(years)d year from the final payment", "%(years)d years from the final payment",
                                         project.durability_years) % {"years": project.durability_years}),
        (_("Durability period ends on"), pdf.format_date(project.durability_ends_on)),
        (_("Durability period state"), state),
        (_("Project manager"), pdf.person(project.manager)),
    ]


def _devices_section(figures: DurabilityFigures) -> list[Flowable]:
    if not figures.devices_total:
        return [pdf.para(_("No device is recorded as bought by the project."), "body")]
    rows = [[str(DeviceStatus(status).label), str(figures.devices_by_status[status])]
            for status in DeviceStatus.values if status in figures.devices_by_status]
    rows.append([_("Total"), str(figures.devices_total)])
    return [pdf.grid([_("State of the device"), _("Devices")], rows, [80 * mm, 30 * mm], total=True)]


def _kinds_section(figures: DurabilityFigures) -> list[Flowable]:
    if not figures.kinds:
        return [pdf.para(_("The project has no beneficiaries."), "body")]
    rows = [[k.label, str(k.beneficiaries), str(k.active), str(k.held), str(k.transferred)] for k in figures.kinds]
    rows.append([_("Total"), *(str(sum(getattr(k, name) for k in figures.kinds))
                               for name in ("beneficiaries", "active", "held", "transferred"))])
    return [
        pdf.grid([_("Kind of beneficiary"), _("Beneficiaries"), _("Active"), _("Project devices held now"),
               _("Project devices transferred to them")], rows, pdf.rest_widths(56 * mm, 26 * mm, 22 * mm, 30 * mm),
              total=True),
    ]


def _obligation_section(item: ObligationFigures, on: date, *, before: list[Flowable] = ()) -> list[Flowable]:
    """One obligation kept on one page where it fits, with `before` (the section's heading) kept with it."""
    obligation = item.obligation
    who = (str(BeneficiaryKind(obligation.applies_to).label) if obligation.applies_to
           else _("every beneficiary"))
    parts: list[Flowable] = [
        *before,
        pdf.h3(f"{capfirst(obligation.get_kind_display())}: {obligation.description}"),
        pdf.para(_("Applies to: %(who)s (%(count)d a month); from %(from)s to %(to)s.")
                 % {"who": who, "count": item.expected, "from": pdf.format_date(obligation.starts_on),
                    "to": pdf.format_date(obligation.ends_on)}, "body"),
        Spacer(1, 1.5 * mm),
    ]
    if not item.years:
        parts.append(pdf.para(_("No month of this obligation had begun by %(date)s.") % {"date": pdf.format_date(on)},
                              "body"))
        return [KeepTogether(parts)]
    rows = [[str(y.year), str(y.months), str(y.complete), f"{_count(y.recorded)} / {_count(y.expected)}",
             _percent(y.recorded, y.expected)] for y in item.years]
    total = item.total
    rows.append([_("Total"), str(total.months), str(total.complete),
                 f"{_count(total.recorded)} / {_count(total.expected)}", _percent(total.recorded, total.expected)])
    parts.append(pdf.grid([_("Year"), _("Months"), _("Months proven for every beneficiary"),
                        _("Monthly proofs recorded / expected"), _("Share")], rows,
                       pdf.rest_widths(22 * mm, 22 * mm, 44 * mm, 44 * mm), total=True))
    if item.gaps:
        gaps = ", ".join(f"{_month(m['month'])} ({m['recorded']}/{m['expected']})" for m in item.gaps)
        parts.append(pdf.para(_("Months with gaps (proofs recorded/expected): %(months)s") % {"months": gaps}, "note"))
    else:
        parts.append(pdf.para(_("Every month is proven for every beneficiary."), "note"))
    return [KeepTogether(parts)]


def _losses_section(figures: DurabilityFigures) -> list[Flowable]:
    parts: list[Flowable] = [pdf.h3(_("Lost or stolen"))]
    if figures.lost:
        parts.append(pdf.grid(
            [_("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number"), _("Reported on"),
             _("Police report or incident")],
            [[e.device.inventory_number, e.device.get_kind_display(),
              f"{e.device.manufacturer} {e.device.model}".strip(), e.device.serial_number,
              pdf.format_date(timezone.localdate(e.occurred_at)), e.reference] for e in figures.lost],
            pdf.rest_widths(34 * mm, 20 * mm, 32 * mm, 28 * mm, 20 * mm)))
    else:
        parts.append(pdf.para(_("No device of the project is lost or stolen."), "body"))
    parts.append(pdf.h3(_("Replaced on a beneficiary's loan")))
    if figures.replaced:
        parts.append(pdf.grid(
            [_("Date"), _("Beneficiary"), _("What was replaced, and why")],
            [[pdf.format_date(timezone.localdate(e.occurred_at)), _who(e.loan.recipient), e.reason]
             for e in figures.replaced],
            pdf.rest_widths(22 * mm, 50 * mm)))
    else:
        parts.append(pdf.para(_("No device was replaced on a beneficiary's loan."), "body"))
    return parts


def _transfers_section(figures: DurabilityFigures) -> list[Flowable]:
    if not figures.transfers:
        return [pdf.para(_("No device of the project has been transferred."), "body")]
    rows = [[t.number, pdf.format_date(t.transfer_date), _who(t.recipient), t.order.number, str(t.project_devices),
             t.protocol.code if t.protocol else "—"] for t in figures.transfers]
    rows.append([_("Total"), "", "", "", str(sum(t.project_devices for t in figures.transfers)), ""])
    return [pdf.grid([_("Number"), _("Date"), _("Recipient"), _("Order no."), _("Devices"), _("Protocol")], rows,
                  pdf.rest_widths(26 * mm, 19 * mm, 48 * mm, 21 * mm, 20 * mm), total=True)]


def _durability_story(figures: DurabilityFigures, by: AbstractBaseUser | None) -> list:
    project, on = figures.project, figures.on
    story: list[Flowable] = [
        pdf.para(_("Report on the durability period of the project"), "title"),
        pdf.para(_("For the funding body: the state of the project %(project)s (grant agreement no. %(agreement)s) "
                   "on %(date)s, from the register of the office.")
                 % {"project": project.name, "agreement": project.agreement_number, "date": pdf.format_date(on)},
                 "body"),
        pdf.h2(_("1. The project")),
        pdf.kv_table(_project_rows(figures)),
        pdf.h2(_("2. Devices of the project")),
        *_devices_section(figures),
        pdf.h2(_("3. Beneficiaries and their sets")),
        *_kinds_section(figures),
    ]
    heading = pdf.h2(_("4. Obligations of the durability period"))
    if figures.obligations:
        # A KeepTogether cannot be kept with what precedes it: the heading goes inside the first obligation's.
        intro = [heading, pdf.para(_("Each obligation is proven month by month for each beneficiary it applies to "
                                  "(an invoice, a service report); the months up to %(date)s are counted.")
                                % {"date": pdf.format_date(on)}, "lead")]
        for n, item in enumerate(figures.obligations):
            story += _obligation_section(item, on, before=intro if n == 0 else [])
    else:
        story += [heading, pdf.para(_("No obligation is registered for the project."), "body")]
    story += [
        pdf.h2(_("5. Devices lost or replaced")),
        *_losses_section(figures),
        pdf.h2(_("6. Transfers of ownership")),
        *_transfers_section(figures),
    ]
    statement = pdf.para(_("The figures above are taken from the office's register of devices, loans, obligation "
                           "records and transfers as of %(date)s.") % {"date": pdf.format_date(on)}, "body")
    story.append(pdf.signatures([(_("Prepared by (signature)"), pdf.person(project.manager or by)),
                              (_("Approved for the office (signature)"), settings.ORGANIZATION_NAME)],
                             lead=[Spacer(1, 4 * mm), statement]))
    return story


def durability_report_issue(*, project: GrantProject, by: AbstractBaseUser | None,
                            on: date | None = None) -> StoredDocument:
    """Issue the report on a project's durability period (raport z okresu trwałości projektu) for the
    funding body, as of `on` (today by default): the project, its devices, its beneficiaries by kind with
    the sets they hold and received, the obligations proven month by month with the months that have gaps,
    the devices lost or replaced, and the transfers of ownership done. A fixed number of queries."""
    figures = durability_figures(project=project, on=on)
    title = _("Durability report of project %(agreement)s as of %(date)s") % {
        "agreement": figures.project.agreement_number, "date": pdf.format_date(figures.on)}
    return document_issue(
        kind=DocumentKind.DURABILITY_REPORT, title=title, subject=figures.project, by=by,
        template_version=DURABILITY_REPORT_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_durability_story(figures, by), stamp=stamp),
    )
