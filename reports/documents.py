"""The report PDFs of the office: the inventory register (księga inwentarzowa) as of a day, the end-of-life
forecast (prognoza wycofań z użytku) and the annual disposal report (roczne sprawozdanie z rozchodu sprzętu).

Each is issued into the core registry with its `IssuedReport` as the subject, so it carries a verification
code and a QR code on every page and can be checked at /verify/<code>/. Titles are public on that page:
they name the report and its period, never a person.

Every report is read in a fixed number of queries, whatever the size of the register: the inventory
register iterates one values() query in chunks and sums it by kind and status in one GROUP BY, the disposal report
reads the year's transfers, liquidations, their items (each with its certificate as a subquery) and the
removed disks in five. The register's table is laid out from plain strings, wrapped to their column once
per distinct text (reportlab's paragraphs cost a second per thousand rows): 5,000 devices build in seconds.
"""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import CharField, Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from assets.choices import DEVICE_GONE, DeviceKind, DeviceStatus, FundingSource, MediumKind
from assets.models import Device, DeviceEvent
from core import pdf
from core.choices import DocumentKind
from core.models import StoredDocument
from core.services import document_issue
from donations.choices import TransferStatus
from donations.documents import format_kg
from donations.models import Beneficiary, Liquidation, LiquidationItem, Transfer, TransferItem
from loans.choices import RecipientKind
from reports.analytics import chart_png, eol_forecast
from reports.charts import bar_chart
from reports.models import IssuedReport, ReportKind
from wipe.choices import RemovalStatus
from wipe.models import DiskRemoval

__all__ = ["inventory_register_issue", "eol_forecast_issue", "disposal_report_issue", "inventory_register_figures",
           "disposal_figures", "InventoryRegister", "DisposalFigures", "report_title"]

INVENTORY_REGISTER_TEMPLATE = "inventory-register/1"
EOL_FORECAST_TEMPLATE = "eol-forecast/1"
DISPOSAL_REPORT_TEMPLATE = "disposal-report/1"
FORECAST_YEARS = 10

_CHART_HEIGHT = pdf.FULL_WIDTH * 3.6 / 8.0  # the charts' own proportions (reports.charts: 8 x 3.6 in)
_NBSP = "\u00a0"
_MONEY = DecimalField(max_digits=20, decimal_places=2)
_ZERO = Decimal("0.00")
_MISSING = colors.HexColor("#fbe3df")  # the row of a device that left without evidence of its data gone


# --- the toolkit of these documents --------------------------------------------------------------


def _chart(png: bytes, *, scale: float = 1.0) -> Image:
    """A chart of reports.charts across the page (or `scale` of its width), in the chart's own proportions."""
    return Image(io.BytesIO(png), width=pdf.FULL_WIDTH * scale, height=_CHART_HEIGHT * scale, hAlign="LEFT")


def _closing(statement: str, by: AbstractBaseUser | None) -> KeepTogether:
    return pdf.signatures([(_("Prepared by (signature)"), pdf.person(by)),
                        (_("Approved for the office (signature)"), settings.ORGANIZATION_NAME)],
                       lead=[Spacer(1, 4 * mm), pdf.para(statement, "body")])


def _count(value: int) -> str:
    """A whole number as Polish documents print it, with a space between thousands: 5 000."""
    return f"{value:,d}".replace(",", _NBSP)


def _label(choices, value: str) -> str:
    """The label of a stored choice, or the stored value if the choice is no longer offered."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def _end_of_day(day: date) -> datetime:
    """The first moment after `day` in the office's time zone: what happened on `day` happened before it."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def report_title(report: IssuedReport) -> str:
    """The public title of a report's PDF: the report and its period, never a person."""
    if report.kind == ReportKind.INVENTORY_REGISTER:
        return _("Inventory register as of %(date)s") % {"date": pdf.format_date(report.as_of)}
    if report.kind == ReportKind.EOL_FORECAST:
        first = report.as_of.year
        return _("End-of-life forecast for %(first)d–%(last)d as of %(date)s") % {
            "first": first, "last": first + FORECAST_YEARS - 1, "date": pdf.format_date(report.as_of)}
    return _("Annual disposal report for %(year)d") % {"year": report.year}


# --- the inventory register ----------------------------------------------------------------------

@dataclass(frozen=True)
class KindTotal:
    """The devices of one kind in the register, and what they cost."""

    kind: str
    devices: int
    value: Decimal

    @property
    def label(self) -> str:
        return _label(DeviceKind, self.kind)


@dataclass
class InventoryRegister:
    """The register as of a day: its rows (a values() queryset read in chunks), its totals per kind, and the
    devices of each kind by their status that day (for the chart)."""

    as_of: date
    rows: QuerySet
    kinds: list[KindTotal]
    by_status: dict[str, dict[str, int]] = field(default_factory=dict)  # status -> kind -> devices

    @property
    def devices(self) -> int:
        return sum(k.devices for k in self.kinds)

    @property
    def value(self) -> Decimal:
        return sum((k.value for k in self.kinds), _ZERO)


_REGISTER_COLUMNS = ("inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                     "purchase_price", "funding", "location", "status_on")


def _register_queryset(as_of: date) -> QuerySet:
    """The devices in the register at the end of `as_of`, each with its status and funding that day.

    A device counts from its purchase date until it is transferred, scrapped or lost. Its status on a past
    day is the one its last event up to that day's end recorded; a device registered later (an import of
    older equipment) has the status it was registered with; today it is simply its status. The other
    columns are as recorded now.
    """
    devices = Device.objects.filter(purchase_date__lte=as_of)
    if as_of >= timezone.localdate():
        status_on = F("status")
    else:
        events = DeviceEvent.objects.filter(device=OuterRef("pk"))
        status_on = Coalesce(
            Subquery(events.filter(occurred_at__lt=_end_of_day(as_of)).order_by("-occurred_at", "-id")
                     .values("to_status")[:1]),
            Subquery(events.order_by("occurred_at", "id").values("to_status")[:1]),
            F("status"), output_field=CharField())
    funding = Coalesce(NullIf(F("funding_source"), Value("")), F("contract__funding_source"), Value(""),
                       output_field=CharField())
    return (devices.annotate(status_on=status_on, funding=funding)
            .exclude(status_on__in=sorted(DEVICE_GONE)))


def inventory_register_figures(*, as_of: date) -> InventoryRegister:
    """The inventory register as of `as_of`: one GROUP BY (kind, status that day) gives the totals per kind and
    the chart; the rows are a lazy values() queryset, read once, in chunks, while the PDF is laid out."""
    queryset = _register_queryset(as_of)
    counts: dict[str, int] = defaultdict(int)
    values: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    for row in (queryset.values("kind", "status_on")
                .annotate(devices=Count("id"), value=Sum("purchase_price", output_field=_MONEY)).order_by()):
        counts[row["kind"]] += row["devices"]
        values[row["kind"]] += Decimal(row["value"] or 0)
        by_status[row["status_on"]][row["kind"]] = row["devices"]
    order = {kind: n for n, kind in enumerate(DeviceKind.values)}
    kinds = [KindTotal(kind, counts[kind], values[kind].quantize(_ZERO))
             for kind in sorted(counts, key=lambda k: (order.get(k, len(order)), k))]
    rows = queryset.values(*_REGISTER_COLUMNS).order_by("inventory_number")
    return InventoryRegister(as_of=as_of, rows=rows, kinds=kinds, by_status=dict(by_status))


def _register_chart(register: InventoryRegister) -> bytes:
    """The register by kind, each bar stacked by the devices' status that day."""
    statuses = [status for status in DeviceStatus.values if status in register.by_status]
    return bar_chart(title=_("Devices in the register by kind and status"),
                     categories=[k.label for k in register.kinds],
                     series={_label(DeviceStatus, status): [register.by_status[status].get(k.kind, 0)
                                                            for k in register.kinds] for status in statuses},
                     ylabel=_("devices"))


class _Wrapper:
    """Text cut into the lines of a column with the register's font, remembered per distinct text: a
    register repeats the same kinds, models, sources and rooms thousands of times. A word wider than the
    column (a long inventory number) is cut between characters rather than drawn over the next column."""

    def __init__(self, font: str, size: float, padding: float) -> None:
        self.font, self.size, self.padding = font, size, padding
        self._seen: dict[tuple[str, float], str] = {}

    def _fit(self, line: str, width: float) -> list[str]:
        if stringWidth(line, self.font, self.size) <= width:
            return [line]
        pieces, current = [], ""
        for char in line:
            if current and stringWidth(current + char, self.font, self.size) > width:
                pieces.append(current)
                current = char.lstrip()
            else:
                current += char
        return [*pieces, current] if current else pieces

    def __call__(self, text: str, width: float) -> str:
        key = (text, width)
        wrapped = self._seen.get(key)
        if wrapped is None:
            room = width - 2 * self.padding
            lines = [piece for line in simpleSplit(text, self.font, self.size, room) for piece in self._fit(line, room)]
            wrapped = self._seen[key] = "\n".join(lines) or "—"
        return wrapped


_REGISTER_FONT_SIZE = 6.5
_REGISTER_PADDING = 2
_REGISTER_HEAD = ParagraphStyle("reports_register_head", parent=pdf.STYLES["cell_bold"], fontSize=_REGISTER_FONT_SIZE,
                                leading=_REGISTER_FONT_SIZE + 1.5)
# Ordinal, inventory number, kind, manufacturer and model, serial number, purchase date, price, funding,
# location, status: what the columns of a księga inwentarzowa hold, on A4 pages lying down (the register
# alone fills the pages; standing up, a row of nine narrow columns took four lines).
_REGISTER_PAGE = landscape(A4)
_REGISTER_WIDTHS = [*(w * mm for w in (8, 28, 25, 50, 22, 16, 20, 36, 28)),
                    _REGISTER_PAGE[0] - 40 * mm - 12 - 233 * mm]


def _register_table(register: InventoryRegister) -> Table:
    """The register's rows as one table of plain (pre-wrapped) strings, its header repeated on every page."""
    wrap = _Wrapper(pdf.FONT, _REGISTER_FONT_SIZE, _REGISTER_PADDING)
    widths = _REGISTER_WIDTHS
    header = [pgettext("ordinal number", "No."), _("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number"),
              _("Purchase date"), _("Purchase price"), _("Funding source"), _("Location"), _("Status")]
    data: list[list[object]] = [[Paragraph(escape(h), _REGISTER_HEAD) for h in header]]
    kinds = {value: str(label) for value, label in DeviceKind.choices}
    statuses = {value: str(label) for value, label in DeviceStatus.choices}
    fundings = {value: str(label) for value, label in FundingSource.choices}
    for ordinal, row in enumerate(register.rows.iterator(chunk_size=2000), start=1):
        data.append([
            str(ordinal),
            wrap(row["inventory_number"], widths[1]),
            wrap(kinds.get(row["kind"], row["kind"]), widths[2]),
            wrap(f"{row['manufacturer']} {row['model']}".strip(), widths[3]),
            wrap(row["serial_number"], widths[4]),
            pdf.format_date(row["purchase_date"]),
            wrap(pdf.format_pln(row["purchase_price"]), widths[6]),
            wrap(fundings.get(row["funding"], row["funding"]), widths[7]),
            wrap(row["location"], widths[8]),
            wrap(statuses.get(row["status_on"], row["status_on"]), widths[9]),
        ])
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        *pdf._grid_style(header=True).getCommands(),
        ("FONTNAME", (0, 1), (-1, -1), pdf.FONT),
        ("FONTSIZE", (0, 1), (-1, -1), _REGISTER_FONT_SIZE),
        ("LEADING", (0, 1), (-1, -1), _REGISTER_FONT_SIZE + 1.5),
        ("ALIGN", (0, 1), (0, -1), "RIGHT"),
        ("ALIGN", (6, 1), (6, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), _REGISTER_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), _REGISTER_PADDING),
        ("TOPPADDING", (0, 1), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 2.5),
    ]))
    return table


def _register_story(register: InventoryRegister, by: AbstractBaseUser | None) -> list:
    day = pdf.format_date(register.as_of)
    story: list[Flowable] = [
        pdf.para(_("Inventory register as of %(date)s") % {"date": day}, "title"),
        pdf.para(_("Every device the office holds in its register of fixed assets at the end of %(date)s: bought by "
                "then and not transferred, scrapped or lost. The status is the one recorded on that day; the other "
                "columns are as recorded now.") % {"date": day}, "lead"),
        pdf.kv_table([(_("Organisation"), pdf.organization()),
             (_("As of"), day),
             (_("Devices in the register"), _count(register.devices)),
             (_("Total purchase value"), pdf.format_pln(register.value))]),
        pdf.h2(_("1. The register by kind")),
    ]
    if register.kinds:
        rows = [[k.label, _count(k.devices), pdf.format_pln(k.value)] for k in register.kinds]
        rows.append([_("Total"), _count(register.devices), pdf.format_pln(register.value)])
        story.append(pdf.grid([_("Kind"), _("Devices"), _("Purchase value")], rows, [60 * mm, 30 * mm, 40 * mm],
                           total=True, right=(1, 2)))
    else:
        story.append(pdf.para(_("No device is in the register on this day."), "body"))
    story += [
        Spacer(1, 4 * mm),
        _chart(_register_chart(register), scale=0.6),  # the page lies down: a full-width chart would fill it
        pdf.h2(_("2. Devices in the register (%(count)s)") % {"count": _count(register.devices)}),
    ]
    if register.devices:
        story.append(_register_table(register))
    else:
        story.append(pdf.para(_("No device is in the register on this day."), "body"))
    story.append(_closing(ngettext(
        "The register above lists %(count)s device of a total purchase value of %(value)s as of %(date)s, from the "
        "office's register of devices.",
        "The register above lists %(count)s devices of a total purchase value of %(value)s as of %(date)s, from the "
        "office's register of devices.", register.devices)
        % {"count": _count(register.devices), "value": pdf.format_pln(register.value), "date": day}, by))
    return story


def inventory_register_issue(*, report: IssuedReport, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the inventory register (księga inwentarzowa) as of `report.as_of`: the totals per kind (count and
    purchase value) with their chart, then every device in the register with its inventory number, kind,
    manufacturer and model, serial number, purchase date and price, funding source, location and status."""
    register = inventory_register_figures(as_of=report.as_of)
    title = report_title(report)
    return document_issue(
        kind=DocumentKind.INVENTORY_REGISTER, title=title, subject=report, by=by,
        template_version=INVENTORY_REGISTER_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_register_story(register, by), stamp=stamp,
                                       pagesize=_REGISTER_PAGE),
    )


# --- the end-of-life forecast --------------------------------------------------------------------

@dataclass(frozen=True)
class ForecastYear:
    year: int
    devices: int
    overdue: int
    replacement_cost: Decimal


def _forecast(as_of: date) -> tuple[list[ForecastYear], bytes]:
    """The forecast's years and its chart (devices per year, stacked by kind), from the analytics."""
    frame = eol_forecast(today=as_of, years=FORECAST_YEARS)
    years = [ForecastYear(int(row.year), int(row.devices), int(row.overdue), Decimal(row.replacement_cost))
             for row in frame.itertuples(index=False)]
    return years, chart_png("forecast", today=as_of, years=FORECAST_YEARS)


def _forecast_story(as_of: date, years: list[ForecastYear], chart: bytes, by: AbstractBaseUser | None) -> list:
    day = pdf.format_date(as_of)
    first, last = years[0].year, years[-1].year
    devices = sum(y.devices for y in years)
    overdue = sum(y.overdue for y in years)
    cost = sum((y.replacement_cost for y in years), _ZERO)
    rows = [[str(y.year), _count(y.devices), _count(y.overdue) if y.overdue else "—",
             pdf.format_pln(y.replacement_cost)] for y in years]
    rows.append([_("Total"), _count(devices), _count(overdue), pdf.format_pln(cost)])
    story: list[Flowable] = [
        pdf.para(_("End-of-life forecast for %(first)d–%(last)d") % {"first": first, "last": last}, "title"),
        pdf.para(_("The devices the office uses (in stock, in use, on loan, in repair) as of %(date)s, by the year in "
                "which they reach the end of their expected life (the purchase date plus the expected life in "
                "years), with the cost of replacing them at their purchase prices. Devices whose life ended "
                "before %(first)d are due in %(first)d and counted again as overdue.")
              % {"date": day, "first": first}, "lead"),
        pdf.kv_table([(_("Organisation"), pdf.organization()),
             (_("As of"), day),
             (_("Years of the forecast"), f"{first}–{last}"),
             (_("Devices reaching the end of their life"), _count(devices)),
             (_("of which overdue already"), _count(overdue)),
             (_("Replacement cost at purchase prices"), pdf.format_pln(cost))]),
        pdf.h2(_("1. Devices reaching the end of their life, year by year")),
        pdf.grid([_("Year"), _("Devices"), _("of which overdue"), _("Replacement cost")], rows,
              [25 * mm, 30 * mm, 35 * mm, 45 * mm], total=True, right=(1, 2, 3)),
        Spacer(1, 4 * mm),
        _chart(chart, scale=0.85),
    ]
    story.append(_closing(_("The forecast above is computed from the purchase dates, expected lives and prices in the "
                            "office's register of devices as of %(date)s.") % {"date": day}, by))
    return story


def eol_forecast_issue(*, report: IssuedReport, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the end-of-life forecast (prognoza wycofań z użytku) from `report.as_of`'s year, ten years ahead:
    per year the devices reaching the end of their life, those overdue already, and the replacement cost, with
    the totals and the chart of the devices per year by kind (reports.analytics: eol_forecast, chart_png)."""
    years, chart = _forecast(report.as_of)
    title = report_title(report)
    return document_issue(
        kind=DocumentKind.EOL_FORECAST, title=title, subject=report, by=by, template_version=EOL_FORECAST_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_forecast_story(report.as_of, years, chart, by),
                                       stamp=stamp),
    )


# --- the annual disposal report ------------------------------------------------------------------

@dataclass(frozen=True)
class RemovedDisk:
    """A medium taken out of a device before it left: destroyed with a certificate, or still held."""

    kind: str
    serial_number: str
    status: str
    destroyed_on: date | None
    certificate_number: str

    def describe(self) -> str:
        medium = f"{_label(MediumKind, self.kind)} {self.serial_number}".strip()
        if self.status == RemovalStatus.DESTROYED:
            return _("disk %(medium)s removed and destroyed on %(date)s, destruction certificate no. %(number)s") % {
                "medium": medium, "date": pdf.format_date(self.destroyed_on), "number": self.certificate_number}
        return _("disk %(medium)s removed, held in custody, not destroyed yet") % {"medium": medium}


@dataclass
class DisposedDevice:
    """A device that left the office, with the evidence that its data did not leave with it."""

    inventory_number: str
    kind: str
    manufacturer: str
    model: str
    serial_number: str
    purchase_price: Decimal
    certificate_code: str | None
    certificate_issued_at: datetime | None
    exception_applied: bool = False
    disks: list[RemovedDisk] = field(default_factory=list)

    @property
    def has_evidence(self) -> bool:
        return self.exception_applied or bool(self.certificate_code) or bool(self.disks)

    def evidence(self) -> str:
        lines = []
        if self.exception_applied:
            lines.append(_("beneficiary exception: held by the recipient without a break since it was last "
                           "sanitized"))
        if self.certificate_code:
            lines.append(_("certificate of sanitization %(code)s of %(date)s") % {
                "code": self.certificate_code,
                "date": pdf.format_date(timezone.localdate(self.certificate_issued_at))})
        lines += [disk.describe() for disk in self.disks]
        return "\n".join(lines) or _("no evidence on record")


@dataclass
class DisposalFigures:
    """What left the office in a calendar year and how: the completed transfers and the liquidations, each
    with its devices and their evidence, read in a fixed number of queries."""

    year: int
    transfers: list[Transfer]
    liquidations: list[Liquidation]
    transferred: dict[int, list[DisposedDevice]]  # by transfer id
    scrapped: dict[int, list[DisposedDevice]]  # by liquidation id

    def devices(self, way: dict[int, list[DisposedDevice]]) -> list[DisposedDevice]:
        return [device for devices in way.values() for device in devices]


def _certificate_subquery(field_name: str) -> Subquery:
    """The code (or issue moment) of the certificate of sanitization of the item's device: the document of
    its latest move to "sanitized", the one the gate issued."""
    latest = (DeviceEvent.objects.filter(device=OuterRef("device_id"), to_status=DeviceStatus.SANITIZED,
                                         document__isnull=False).order_by("-occurred_at", "-id"))
    return Subquery(latest.values(f"document__{field_name}")[:1])


_ITEM_FIELDS = ("device_id", "device__inventory_number", "device__kind", "device__manufacturer", "device__model",
                "device__serial_number", "device__purchase_price", "certificate_code", "certificate_issued_at")


def _disposed(row: dict, disks: dict[int, list[RemovedDisk]], *, exception: bool = False) -> DisposedDevice:
    return DisposedDevice(
        inventory_number=row["device__inventory_number"], kind=row["device__kind"],
        manufacturer=row["device__manufacturer"], model=row["device__model"],
        serial_number=row["device__serial_number"], purchase_price=row["device__purchase_price"],
        certificate_code=row["certificate_code"], certificate_issued_at=row["certificate_issued_at"],
        exception_applied=exception, disks=disks.get(row["device_id"], []))


def disposal_figures(*, year: int) -> DisposalFigures:
    """The transfers completed and the liquidations handed over in `year`, with every device and its evidence
    that the data was gone: the code of its certificate of sanitization, its removed disks with their
    destruction certificates, or the beneficiary exception. Five queries, whatever the year held."""
    transfers_qs = Transfer.objects.filter(status=TransferStatus.COMPLETED, transfer_date__year=year)
    liquidations_qs = Liquidation.objects.filter(handed_over_on__year=year)
    transfers = list(transfers_qs.select_related("order", "recipient__beneficiary", "protocol")
                     .order_by("transfer_date", "number"))
    liquidations = list(liquidations_qs.select_related("order", "protocol").order_by("handed_over_on", "number"))
    transfer_items = list(
        TransferItem.objects.filter(transfer__in=transfers_qs)
        .annotate(certificate_code=_certificate_subquery("code"),
                  certificate_issued_at=_certificate_subquery("issued_at"))
        .values("transfer_id", "exception_applied", *_ITEM_FIELDS).order_by("device__inventory_number"))
    liquidation_items = list(
        LiquidationItem.objects.filter(liquidation__in=liquidations_qs)
        .annotate(certificate_code=_certificate_subquery("code"),
                  certificate_issued_at=_certificate_subquery("issued_at"))
        .values("liquidation_id", *_ITEM_FIELDS).order_by("device__inventory_number"))
    disks: dict[int, list[RemovedDisk]] = defaultdict(list)
    removals = (DiskRemoval.objects
                .filter(Q(device_id__in=TransferItem.objects.filter(transfer__in=transfers_qs).values("device_id"))
                        | Q(device_id__in=LiquidationItem.objects.filter(liquidation__in=liquidations_qs)
                            .values("device_id")))
                .values("device_id", "medium__kind", "medium__serial_number", "status", "destroyed_on",
                        "certificate_number").order_by("removed_at", "id"))
    for row in removals:
        disks[row["device_id"]].append(RemovedDisk(row["medium__kind"], row["medium__serial_number"], row["status"],
                                                   row["destroyed_on"], row["certificate_number"]))
    transferred: dict[int, list[DisposedDevice]] = {t.pk: [] for t in transfers}
    for row in transfer_items:
        transferred[row["transfer_id"]].append(_disposed(row, disks, exception=row["exception_applied"]))
    scrapped: dict[int, list[DisposedDevice]] = {liquidation.pk: [] for liquidation in liquidations}
    for row in liquidation_items:
        scrapped[row["liquidation_id"]].append(_disposed(row, disks))
    return DisposalFigures(year=year, transfers=transfers, liquidations=liquidations, transferred=transferred,
                           scrapped=scrapped)


def _recipient(transfer: Transfer) -> str:
    """The recipient as the transfer protocol names it: its kind, the beneficiary code first when it is one."""
    recipient = transfer.recipient
    kind = _label(RecipientKind, recipient.kind)
    try:
        code = recipient.beneficiary.code
    except Beneficiary.DoesNotExist:
        return f"{recipient.name} ({kind})"
    return f"{code} – {recipient.name} ({kind})"


_DEVICE_WIDTHS = pdf.rest_widths(7 * mm, 33 * mm, 22 * mm, 28 * mm, 26 * mm)


def _devices_table(devices: list[DisposedDevice]) -> Table:
    table = pdf.grid([_("No."), _("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number"),
                   _("Evidence that the data is gone")],
                  [[str(n), d.inventory_number, _label(DeviceKind, d.kind), f"{d.manufacturer} {d.model}".strip(),
                    d.serial_number, d.evidence()] for n, d in enumerate(devices, start=1)],
                  _DEVICE_WIDTHS)
    missing = [("BACKGROUND", (0, n), (-1, n), _MISSING) for n, d in enumerate(devices, start=1) if not d.has_evidence]
    if missing:
        table.setStyle(TableStyle(missing))
    return table


def _code(document: StoredDocument | None) -> str:
    return document.code if document else "—"


def _transfer_block(transfer: Transfer, devices: list[DisposedDevice]) -> list[Flowable]:
    order = transfer.order
    return [
        pdf.h3(_("Transfer %(number)s of %(date)s") % {"number": transfer.number,
                                                   "date": pdf.format_date(transfer.transfer_date)}),
        pdf.kv_table([(_("Order no."), _("%(number)s of %(date)s") % {"number": order.number,
                                                            "date": pdf.format_date(order.signed_on)}),
             (_("Recipient"), _recipient(transfer)),
             (_("Transfer protocol (verification code)"), _code(transfer.protocol)),
             (_("Devices"), _count(len(devices)))]),
        Spacer(1, 1.5 * mm),
        _devices_table(devices),
    ]


def _liquidation_block(liquidation: Liquidation, devices: list[DisposedDevice]) -> list[Flowable]:
    order = liquidation.order
    return [
        pdf.h3(_("Liquidation %(number)s of %(date)s") % {"number": liquidation.number,
                                                      "date": pdf.format_date(liquidation.handed_over_on)}),
        pdf.kv_table([(_("Order no."), _("%(number)s of %(date)s") % {"number": order.number,
                                                            "date": pdf.format_date(order.signed_on)}),
             (_("Handed over on"), pdf.format_date(liquidation.handed_over_on)),
             (_("Collector"), _("%(name)s (BDO registry number %(bdo)s)") % {"name": liquidation.collector_name,
                                                                             "bdo": liquidation.collector_bdo}),
             (_("Waste transfer card (KPO) number"), liquidation.kpo_number),
             (_("Mass"), format_kg(liquidation.mass_kg)),
             (_("Liquidation protocol (verification code)"), _code(liquidation.protocol)),
             (_("Devices"), _count(len(devices)))]),
        Spacer(1, 1.5 * mm),
        _devices_table(devices),
    ]


def _summary(figures: DisposalFigures) -> Table:
    def line(label: str, operations: int, devices: list[DisposedDevice]) -> list[str]:
        return [label, _count(operations), _count(len(devices)),
                pdf.format_pln(sum((d.purchase_price for d in devices), _ZERO)),
                _count(sum(1 for d in devices if d.certificate_code and not d.exception_applied)),
                _count(sum(1 for d in devices if d.exception_applied)),
                _count(sum(1 for d in devices if not d.has_evidence))]

    transferred, scrapped = figures.devices(figures.transferred), figures.devices(figures.scrapped)
    rows = [line(_("free transfer"), len(figures.transfers), transferred),
            line(_("liquidation (e-waste)"), len(figures.liquidations), scrapped),
            line(_("Total"), len(figures.transfers) + len(figures.liquidations), transferred + scrapped)]
    return pdf.grid([_("Way out"), _("Operations"), _("Devices"), _("Purchase value"),
                  _("With a certificate of sanitization"), _("Beneficiary exception"), _("Without evidence")],
                 rows, pdf.rest_widths(30 * mm, 18 * mm, 20 * mm, 26 * mm, 25 * mm, 24 * mm), total=True,
                 right=(1, 2, 3, 4, 5, 6))


def _disposal_story(figures: DisposalFigures, by: AbstractBaseUser | None) -> list:
    year = figures.year
    period = f"{pdf.format_date(date(year, 1, 1))}–{pdf.format_date(date(year, 12, 31))}"
    story: list[Flowable] = [
        pdf.para(_("Annual disposal report for %(year)d") % {"year": year}, "title"),
        pdf.para(_("What left the office's register of fixed assets in %(year)d (%(period)s) and how: each completed "
                "free transfer and each liquidation, with the order that allowed it, its protocol's verification "
                "code and, for every device, the evidence that no data left with it.")
              % {"year": year, "period": period}, "lead"),
        pdf.kv_table([(_("Organisation"), pdf.organization()),
             (pgettext("period of a report", "Period"), period)]),
        pdf.h2(_("1. Summary by way out")),
        _summary(figures),
    ]
    story.append(pdf.h2(_("2. Free transfers (%(count)d)") % {"count": len(figures.transfers)}))
    if figures.transfers:
        for transfer in figures.transfers:
            story += _transfer_block(transfer, figures.transferred[transfer.pk])
    else:
        story.append(pdf.para(_("No free transfer was completed in %(year)d.") % {"year": year}, "body"))
    story.append(pdf.h2(_("3. Liquidations (%(count)d)") % {"count": len(figures.liquidations)}))
    if figures.liquidations:
        for liquidation in figures.liquidations:
            story += _liquidation_block(liquidation, figures.scrapped[liquidation.pk])
    else:
        story.append(pdf.para(_("No device was handed over for scrapping in %(year)d.") % {"year": year}, "body"))
    story.append(pdf.para(_("Each protocol and certificate of sanitization can be checked by its code at %(url)s.")
                       % {"url": f"{settings.SITE_URL}/verify/"}, "note"))
    devices = len(figures.devices(figures.transferred)) + len(figures.devices(figures.scrapped))
    story.append(_closing(ngettext(
        "In %(year)d %(count)d device left the office's register, as listed above.",
        "In %(year)d %(count)d devices left the office's register, as listed above.", devices)
        % {"year": year, "count": devices}, by))
    return story


def disposal_report_issue(*, report: IssuedReport, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the annual disposal report (roczne sprawozdanie z rozchodu sprzętu) for `report.year`: the summary
    per way out, then each completed free transfer (number, date, order, recipient, protocol code) and each
    liquidation (number, date, order, collector, KPO number, protocol code), every device with the evidence
    that its data was gone."""
    figures = disposal_figures(year=report.year)
    title = report_title(report)
    return document_issue(
        kind=DocumentKind.DISPOSAL_REPORT, title=title, subject=report, by=by,
        template_version=DISPOSAL_REPORT_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_disposal_story(figures, by), stamp=stamp),
    )
