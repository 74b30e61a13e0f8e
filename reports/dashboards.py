"""The first page after login: for each role, what needs that person now, with counts and links.

A panel is a count and the first few records of one kind of work (new faults, transfers waiting for the
legal office, months without proof, ...), each linking to its record, and a link to the whole filtered
list. Every panel reads a fixed number of queries whatever the size of the register: a COUNT, the first
rows (with their relations joined or prefetched) and, for the months without proof, two GROUP BYs.

Which panels a person sees follows their roles (core.roles): a person with several roles sees the panels
of each, a superuser those of every office. A borrower (a councillor) sees what they hold and their open
fault reports, read through portal.selectors, so that the portal and the API agree on "their own".
"""
from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assets.choices import DeviceStatus
from core.pdf import format_date
from core.roles import ROLE_LABELS, Role
from donations.choices import TRANSFER_OPEN, TransferStatus
from donations.models import Beneficiary, GrantProject, MayoralOrder, ObligationRecord, ProjectObligation, Transfer
from faults.choices import FaultStatus
from faults.models import FaultReport
from loans.selectors import loans_ending_or_overdue
from portal.selectors import my_devices, my_open_faults
from wipe.selectors import devices_to_sanitize, prefetched_missing

# How many records a panel lists; the count and the "see all" link cover the rest.
PANEL_SIZE = 10
# Orders whose force ends within this many days, and projects whose durability period ends within this
# many days, are shown to the legal office and to the project manager.
ORDERS_EXPIRING_DAYS = 30
DURABILITY_ENDING_DAYS = 180

# The roles whose work happens in the admin; the others (a councillor, a borrower without a role) use the portal.
OFFICE_ROLES = (Role.IT_OFFICE, Role.LEGAL_OFFICE, Role.PROJECT_MANAGER)


@dataclass(frozen=True)
class Item:
    """One record on a panel: what it is, the detail that says why it is there, where to handle it."""

    label: str
    detail: str
    url: str


@dataclass(frozen=True)
class Panel:
    """One kind of work waiting for a role: how many records, the first of them, the whole list."""

    key: str
    role: str
    title: str
    count: int
    items: list[Item] = field(default_factory=list)
    more_url: str = ""
    empty: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _admin(name: str, *args, query: dict | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _days(n: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", n) % {"count": n}


def _device(device) -> str:
    return " ".join(filter(None, [device.inventory_number, "·", str(device.get_kind_display()), device.manufacturer,
                                  device.model]))


# --- the IT office ---------------------------------------------------------------------------------

def new_faults_panel(*, today: date) -> Panel:
    """Fault reports nobody in the IT office has acknowledged yet, the longest waiting first."""
    waiting = FaultReport.objects.filter(status=FaultStatus.NEW)
    rows = waiting.select_related("device", "loan__recipient").order_by("created_at", "id")[:PANEL_SIZE]
    return Panel(
        key="new_faults", role=Role.IT_OFFICE, title=_("New fault reports"), count=waiting.count(),
        items=[Item(label=_("Fault report no. %(id)s: %(device)s") % {"id": f.pk, "device": _device(f.device)},
                    detail=" · ".join([str(f.get_category_display()), f.loan.recipient.name,
                                       _("reported %(when)s") % {"when": format_date(f.created_at)}]),
                    url=_admin("faults_faultreport_change", f.pk))
               for f in rows],
        more_url=_admin("faults_faultreport_changelist", query={"status__exact": FaultStatus.NEW}),
        empty=_("No new fault reports."),
    )


def _what_is_missing(device) -> str:
    missing = prefetched_missing(device)
    if missing is None:
        return _("no storage media on record: confirm that it has none")
    if missing:
        return _("to wipe or take out: %(media)s") % {
            "media": ", ".join(f"{m.get_kind_display()} {m.serial_number or '—'}" for m in missing)}
    return _("ready to be moved to sanitized")


def devices_to_wipe_panel(*, today: date) -> Panel:
    """Retired devices whose data is not yet gone (wipe.selectors.devices_to_sanitize), with what each needs."""
    waiting = devices_to_sanitize()
    # Counted on the selector's own condition: its per-device media counts would make the COUNT a GROUP BY
    # over every retired device's media.
    counted = waiting.model.objects.filter(status=DeviceStatus.RETIRED)
    return Panel(
        key="devices_to_wipe", role=Role.IT_OFFICE, title=_("Devices waiting for a wipe"), count=counted.count(),
        items=[Item(label=_device(d), detail=_what_is_missing(d), url=_admin("wipe_devicetosanitize_change", d.pk))
               for d in waiting[:PANEL_SIZE]],
        more_url=_admin("wipe_devicetosanitize_changelist"),
        empty=_("No retired device is waiting for a wipe."),
    )


def overdue_loans_panel(*, today: date) -> Panel:
    """Open loans past their planned end, the most overdue first, with the devices still held."""
    overdue = loans_ending_or_overdue(within_days=-1, today=today)
    items = []
    for loan in overdue[:PANEL_SIZE]:
        held = ", ".join(item.device.inventory_number for item in loan.held_items)
        items.append(Item(
            label=_("Loan no. %(id)s: %(recipient)s") % {"id": loan.pk, "recipient": loan.recipient.name},
            detail=" · ".join(filter(None, [
                _("planned end %(date)s, %(days)s overdue") % {"date": format_date(loan.planned_end_on),
                                                                "days": _days((today - loan.planned_end_on).days)},
                held])),
            url=_admin("loans_loan_change", loan.pk)))
    return Panel(
        key="overdue_loans", role=Role.IT_OFFICE, title=_("Overdue loans"),
        count=overdue.order_by().count(), items=items,
        more_url=_admin("loans_loan_changelist", query={"overdue": "yes"}),
        empty=_("No loan is past its planned end."),
    )


# --- the legal office ------------------------------------------------------------------------------

def transfers_to_review_panel(*, today: date) -> Panel:
    """Transfers submitted for the legal office's decision, the earliest transfer date first."""
    submitted = Transfer.objects.filter(status=TransferStatus.SUBMITTED)
    rows = (submitted.select_related("order", "recipient").annotate(devices_count=Count("items"))
            .order_by("transfer_date", "id")[:PANEL_SIZE])
    return Panel(
        key="transfers_to_review", role=Role.LEGAL_OFFICE, title=_("Transfers to review"), count=submitted.count(),
        items=[Item(label=f"{t.number}: {t.recipient.name}",
                    detail=" · ".join([
                        _("order no. %(number)s") % {"number": t.order.number},
                        _("transfer date %(date)s") % {"date": format_date(t.transfer_date)},
                        ngettext("%(count)d device", "%(count)d devices", t.devices_count) % {"count": t.devices_count},
                    ]),
                    url=_admin("donations_transfer_change", t.pk))
               for t in rows],
        more_url=_admin("donations_transfer_changelist", query={"status__exact": TransferStatus.SUBMITTED}),
        empty=_("No transfer is waiting for a decision."),
    )


def orders_expiring_panel(*, today: date) -> Panel:
    """Orders in force today whose force ends within ORDERS_EXPIRING_DAYS, with the transfers still open
    under each (a transfer dated after the end would fail the check)."""
    until = today + timedelta(days=ORDERS_EXPIRING_DAYS)
    expiring = MayoralOrder.objects.filter(in_force_from__lte=today, in_force_until__gte=today,
                                           in_force_until__lte=until)
    rows = (expiring.annotate(open_transfers=Count("transfers", filter=Q(transfers__status__in=TRANSFER_OPEN)))
            .order_by("in_force_until", "number")[:PANEL_SIZE])
    items = []
    for order in rows:
        detail = [_("in force until %(date)s (%(days)s left)") % {
            "date": format_date(order.in_force_until), "days": _days((order.in_force_until - today).days)}]
        if order.open_transfers:
            detail.append(ngettext("%(count)d open transfer", "%(count)d open transfers", order.open_transfers)
                          % {"count": order.open_transfers})
        items.append(Item(label=_("Order no. %(number)s: %(title)s") % {"number": order.number, "title": order.title},
                          detail=" · ".join(detail), url=_admin("donations_mayoralorder_change", order.pk)))
    return Panel(
        key="orders_expiring", role=Role.LEGAL_OFFICE,
        title=_("Orders expiring within %(days)s") % {"days": _days(ORDERS_EXPIRING_DAYS)},
        count=expiring.count(), items=items,
        more_url=_admin("donations_mayoralorder_changelist", query={
            "in_force_from__lte": today.isoformat(), "in_force_until__gte": today.isoformat(),
            "in_force_until__lte": until.isoformat()}),
        empty=_("No order in force expires soon."),
    )


# --- the project manager ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ProofGapMonth:
    """A month of an obligation in which `missing` of the `expected` beneficiaries have no proof."""

    obligation_id: int
    month: date
    missing: int
    expected: int


def proof_gap_months(*, today: date) -> tuple[int, list[ProofGapMonth], dict]:
    """The months of every obligation, up to the current one, in which beneficiaries have no proof.

    Returns the number of missing proofs (beneficiary x month, the same total as
    donations.selectors.obligation_gaps), the first PANEL_SIZE months with a gap (the latest first) and
    the obligations by id. Three queries at any number of beneficiaries and records: the obligations, the
    beneficiaries counted by project and kind, the records counted by obligation and month.
    """
    started = ProjectObligation.objects.filter(starts_on__lte=today)
    obligations = {o.pk: o for o in started.select_related("project").order_by("project__name", "kind", "id")}
    if not obligations:
        return 0, [], {}
    per_kind: dict[int, dict[str, int]] = {}
    for row in (Beneficiary.objects.filter(project_id__in=started.values("project_id")).order_by()
                .values("project_id", "kind").annotate(n=Count("pk"))):
        per_kind.setdefault(row["project_id"], {})[row["kind"]] = row["n"]
    # A record counts only for a beneficiary the obligation applies to, as in obligation_gaps.
    recorded = {(row["obligation_id"], row["month"]): row["n"] for row in (
        ObligationRecord.objects.filter(obligation__in=started, month__lte=today,
                                        beneficiary__project_id=F("obligation__project_id"))
        .filter(Q(obligation__applies_to="") | Q(obligation__applies_to=F("beneficiary__kind")))
        .order_by().values("obligation_id", "month").annotate(n=Count("pk")))}
    total = 0

    def months_with_gaps():
        nonlocal total
        for obligation in obligations.values():
            kinds = per_kind.get(obligation.project_id, {})
            expected = kinds.get(obligation.applies_to, 0) if obligation.applies_to else sum(kinds.values())
            for month in obligation.months() if expected else ():
                if month > today:
                    break
                missing = expected - recorded.get((obligation.pk, month), 0)
                if missing > 0:
                    total += missing
                    yield ProofGapMonth(obligation.pk, month, missing, expected)

    rank = {pk: n for n, pk in enumerate(obligations)}
    first = heapq.nsmallest(PANEL_SIZE, months_with_gaps(), key=lambda g: (-g.month.toordinal(), rank[g.obligation_id]))
    return total, first, obligations


def proof_gaps_panel(*, today: date) -> Panel:
    """Obligation months without proof for some beneficiaries, the latest month first; the count is of
    missing proofs (beneficiary x month), each item one month of one obligation."""
    total, months, obligations = proof_gap_months(today=today)
    items = []
    for gap in months:
        obligation = obligations[gap.obligation_id]
        items.append(Item(
            label=f"{obligation.project.name}: {obligation.description or obligation.get_kind_display()}, "
                  f"{gap.month:%m.%Y}",
            detail=ngettext("%(missing)d of %(expected)d beneficiary without proof",
                            "%(missing)d of %(expected)d beneficiaries without proof", gap.expected)
            % {"missing": gap.missing, "expected": gap.expected},
            url=_admin("donations_grantproject_gaps", obligation.project_id)))
    return Panel(
        key="proof_gaps", role=Role.PROJECT_MANAGER, title=_("Obligation months without proof"), count=total,
        items=items, more_url=_admin("donations_projectobligation_changelist"),
        empty=_("Every obligation has its proof up to this month."),
    )


def durability_ending_panel(*, today: date) -> Panel:
    """Projects whose durability period ends within DURABILITY_ENDING_DAYS: the report for the funding body
    and the transfers to prepare."""
    until = today + timedelta(days=DURABILITY_ENDING_DAYS)
    ending = GrantProject.objects.filter(durability_ends_on__gte=today, durability_ends_on__lte=until)
    return Panel(
        key="durability_ending", role=Role.PROJECT_MANAGER,
        title=_("Durability periods ending within %(days)s") % {"days": _days(DURABILITY_ENDING_DAYS)},
        count=ending.count(),
        items=[Item(label=p.name,
                    detail=_("durability period ends %(date)s (%(days)s left)") % {
                        "date": format_date(p.durability_ends_on), "days": _days((p.durability_ends_on - today).days)},
                    url=_admin("donations_grantproject_change", p.pk))
               for p in ending.order_by("durability_ends_on", "name")[:PANEL_SIZE]],
        more_url=_admin("donations_grantproject_changelist", query={
            "durability_ends_on__gte": today.isoformat(), "durability_ends_on__lte": until.isoformat()}),
        empty=_("No durability period ends soon."),
    )


# --- a borrower (a councillor) ---------------------------------------------------------------------

def my_devices_panel(user, *, today: date) -> Panel:
    """The devices the person holds now, on any open loan."""
    devices = my_devices(user)
    items = []
    for device in devices[:PANEL_SIZE]:
        detail = [_("inventory no. %(number)s") % {"number": device.inventory_number}]
        if device.status == DeviceStatus.IN_REPAIR:
            detail.append(_("in repair"))
        items.append(Item(label=" ".join(filter(None, [str(device.get_kind_display()).capitalize(),
                                                       device.manufacturer, device.model])),
                          detail=" · ".join(detail), url=reverse("portal:device", args=[device.pk])))
    return Panel(key="my_devices", role=Role.COUNCILLOR, title=_("My devices"), count=devices.count(), items=items,
                 more_url=reverse("portal:home"), empty=_("You have no devices on loan."))


def my_open_faults_panel(user, *, today: date) -> Panel:
    """The person's fault reports the IT office has not closed yet, the latest first."""
    faults = my_open_faults(user)
    return Panel(
        key="my_open_faults", role=Role.COUNCILLOR, title=_("My open fault reports"), count=faults.count(),
        items=[Item(label=_("Fault report no. %(id)s: %(device)s") % {"id": f.pk, "device": f.device.inventory_number},
                    detail=" · ".join([str(f.get_status_display()),
                                       _("reported %(when)s") % {"when": format_date(f.created_at)}]),
                    url=reverse("portal:fault", args=[f.pk]))
               for f in faults.select_related("device").order_by("-created_at", "-id")[:PANEL_SIZE]],
        more_url=reverse("portal:home"), empty=_("You have no open fault reports."),
    )


# --- who sees what ---------------------------------------------------------------------------------

OFFICE_PANELS: dict[str, list[Callable[..., Panel]]] = {
    Role.IT_OFFICE: [new_faults_panel, devices_to_wipe_panel, overdue_loans_panel],
    Role.LEGAL_OFFICE: [transfers_to_review_panel, orders_expiring_panel],
    Role.PROJECT_MANAGER: [proof_gaps_panel, durability_ending_panel],
}
HOLDER_PANELS: list[Callable[..., Panel]] = [my_devices_panel, my_open_faults_panel]


def dashboard_roles(user) -> list[str]:
    """The roles whose panels the user sees, in a fixed order: the offices' (all of them for a superuser),
    then the borrower's for a councillor or for someone without any role (the portal's own things)."""
    if not user or not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    offices = list(OFFICE_ROLES) if user.is_superuser else [role for role in OFFICE_ROLES if role in names]
    if Role.COUNCILLOR in names or (not names and not user.is_superuser):
        return [*offices, Role.COUNCILLOR]
    return offices


def dashboard_panels(user, *, today: date | None = None, roles: list[str] | None = None) -> list[Panel]:
    """Every panel the user sees, role by role (see dashboard_roles)."""
    today = today or timezone.localdate()
    panels = []
    for role in dashboard_roles(user) if roles is None else roles:
        if role == Role.COUNCILLOR:
            panels.extend(build(user, today=today) for build in HOLDER_PANELS)
        else:
            panels.extend(build(today=today) for build in OFFICE_PANELS.get(role, ()))
    return panels


def dashboard_sections(user, *, today: date | None = None) -> list[dict]:
    """The panels grouped by role, with the role's name, for the admin's first page."""
    sections: list[dict] = []
    for panel in dashboard_panels(user, today=today):
        if not sections or sections[-1]["role"] != panel.role:
            label = _("My devices and fault reports") if panel.role == Role.COUNCILLOR else ROLE_LABELS[panel.role]
            sections.append({"role": panel.role, "label": label, "panels": []})
        sections[-1]["panels"].append(panel)
    return sections


__all__ = ["Item", "Panel", "PANEL_SIZE", "ORDERS_EXPIRING_DAYS", "DURABILITY_ENDING_DAYS", "ProofGapMonth",
           "proof_gap_months", "new_faults_panel", "devices_to_wipe_panel", "overdue_loans_panel",
           "transfers_to_review_panel", "orders_expiring_panel", "proof_gaps_panel", "durability_ending_panel",
           "my_devices_panel", "my_open_faults_panel", "dashboard_roles", "dashboard_panels", "dashboard_sections"]
