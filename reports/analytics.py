"""Analytics of the register: each report is a set of tables computed in the database and shaped in pandas.

Every figure is a GROUP BY (or a Count/Exists inside one) in the database: the number of queries a report
makes does not depend on the number of devices, loans, wipes or faults, and no report loads the rows of
the register into Python. pandas only reshapes the aggregates, which are a few hundred rows at most: it
fills in the missing years or months with zeros, pivots, sums.

A report is a function returning its tables as DataFrames (keyed by table name, with the stored codes of
choices); the registry `REPORTS` gives each its translated title, the titles and labels of its tables'
columns and its parameters, and drives both the API (JSON, CSV, XLSX) and the pages with their charts.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import pandas as pd
from dateutil.relativedelta import relativedelta
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from assets.choices import DeviceKind, DeviceStatus, FundingSource
from assets.models import Device
from core.exceptions import InvalidInput
from donations.choices import BeneficiaryKind, ObligationKind, TransferStatus
from donations.models import Beneficiary, GrantProject, ObligationRecord, ProjectObligation, Transfer
from faults.choices import FAULT_CLOSED, FaultCategory, FaultStatus
from faults.models import FaultEvent, FaultReport
from loans.choices import LoanPurpose, LoanStatus
from loans.models import Loan
from reports.charts import bar_chart, line_chart
from wipe.choices import SanitizationStatus, Technique, WipeEventKind
from wipe.models import Sanitization, WipeEvent

__all__ = [
    "IN_OFFICE_USE", "IN_REGISTER", "AGE_BANDS", "Column", "TableSpec", "Param", "ReportSpec", "Table", "Result",
    "REPORTS", "eol_forecast", "eol_forecast_by_kind", "inventory", "forecast", "wipes", "loans", "faults",
    "einclusion", "get_report", "parse_params", "run", "chart_png", "result_charts",
]

# The devices the office still uses, and will have to replace when they reach the end of their life.
IN_OFFICE_USE = (DeviceStatus.IN_STOCK, DeviceStatus.IN_USE, DeviceStatus.ON_LOAN, DeviceStatus.IN_REPAIR)
# The devices still in the register: everything but those that left it (transferred, scrapped, lost).
IN_REGISTER = (*IN_OFFICE_USE, DeviceStatus.RETIRED, DeviceStatus.SANITIZED)

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0.00")

# Age bands of the inventory: (code, label, youngest age in full years); the last band has no upper end.
AGE_BANDS: tuple[tuple[str, Promise, int], ...] = (
    ("0-1", gettext_lazy("under 1 year"), 0),
    ("1-3", gettext_lazy("1–3 years"), 1),
    ("3-5", gettext_lazy("3–5 years"), 3),
    ("5-7", gettext_lazy("5–7 years"), 5),
    ("7-10", gettext_lazy("7–10 years"), 7),
    ("10+", gettext_lazy("10 years and more"), 10),
)


# --- database functions -----------------------------------------------------------------------------

class Year(Func):
    """The calendar year of a date column, as an integer, computed natively by the database.

    Django's ExtractYear calls a Python function per row on SQLite; SQLite keeps a date as 'YYYY-MM-DD'
    text, so its first four characters are the year.
    """

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(EXTRACT(YEAR FROM %(expressions)s) AS integer)",
                              **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(substr(%(expressions)s, 1, 4) AS integer)",
                              **extra)


class ElapsedSeconds(Func):
    """Seconds from the second datetime column to the first (end, start), in the database."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, arg_joiner=" - ",
                              template="EXTRACT(EPOCH FROM (%(expressions)s))", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps a datetime as ISO text in UTC; julianday reads it as days.
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)", (*end_params, *start_params)


class WholeHours(Func):
    """Whole hours of a number of seconds (rounded down), to count durations in buckets of an hour."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(FLOOR(%(expressions)s / 3600.0) AS integer)",
                              **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Durations here are never negative, so truncation is rounding down.
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s / 3600.0 AS integer)", **extra)


# --- the registry's vocabulary ----------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of a report's table: its key in the DataFrame, its translated label, and what it holds.

    `type` is one of text, choice (a stored code shown by its label from `choices`), int, money (exact
    Decimal in PLN), number (one decimal), percent (one decimal), date and month (a date, the first of the
    month). `blank` is what an empty text or choice shows.
    """

    key: str
    label: Promise | str
    type: str = "int"
    choices: Mapping[str, Promise | str] | None = None
    blank: Promise | str | None = None

    def display(self, value) -> object:
        """A choice's label (or the text's value), with `blank` for an empty value."""
        if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
            return str(self.blank) if self.blank is not None else ""
        if self.type == "choice" and self.choices is not None:
            return str(self.choices.get(value, value))
        return value


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: Promise | str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Param:
    """An integer parameter of a report, read from a request: its range and default (None: optional)."""

    name: str
    label: Promise | str
    default: int | None
    minimum: int
    maximum: int


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: Promise | str
    description: Promise | str
    function: Callable[..., dict[str, pd.DataFrame]]
    tables: tuple[TableSpec, ...]
    params: tuple[Param, ...] = ()
    charts: tuple[str, ...] = ()


@dataclass
class Table:
    spec: TableSpec
    frame: pd.DataFrame

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return str(self.spec.title)

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.spec.columns


@dataclass
class Result:
    """A report as computed on `as_of`, with the parameters it was computed with."""

    spec: ReportSpec
    as_of: date
    params: dict
    tables: list[Table] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return str(self.spec.title)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {table.name: table.frame for table in self.tables}

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


# --- shared helpers -----------------------------------------------------------------------------------

def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _check_range(value, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(_("Give a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum},
                           field=name)
    return value


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def _sum_money(values) -> Decimal:
    return sum(values, ZERO)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def _ints(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = frame[name].fillna(0).astype("int64")
    return frame


def _month_starts(today: date, months: int) -> list[date]:
    """The first day of each of the last `months` calendar months, this one included, oldest first."""
    first = today.replace(day=1)
    return [first - relativedelta(months=back) for back in range(months - 1, -1, -1)]


def _period_start(today: date, months: int) -> datetime:
    """The moment the period of the last `months` months begins, in the office's time zone."""
    return timezone.make_aware(datetime.combine(_month_starts(today, months)[0], time.min))


def _per_month(rows: list[dict], months: list[date], *, key: str = "month", counts: tuple[str, ...]) -> pd.DataFrame:
    """Counts per month over every month of the period, missing months as zeros."""
    frame = pd.DataFrame({"month": months})
    if rows:
        found = pd.DataFrame(rows)
        found["month"] = [value.date() if isinstance(value, datetime) else value for value in found[key]]
        found = found.groupby("month", as_index=False)[list(counts)].sum()
        frame = frame.merge(found, how="left", on="month")
    for name in counts:
        if name not in frame:
            frame[name] = 0
    return _ints(frame, *counts)[["month", *counts]]


def _with_zeros(frame: pd.DataFrame, key: str, codes: list[str], counts: tuple[str, ...] = (),
                money: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every code of a fixed set in its order, those without rows as zeros; codes outside it after them."""
    extra = [code for code in frame[key].tolist() if code not in codes]
    full = pd.DataFrame({key: [*codes, *extra]}).merge(frame, how="left", on=key)
    _ints(full, *counts)
    for name in money:
        full[name] = [value if isinstance(value, Decimal) else ZERO for value in full[name]]
    return full


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- the end-of-life forecast -----------------------------------------------------------------------

def _eol_groups(*, first_year: int, years: int) -> pd.DataFrame:
    """Devices in use by the year their life ends and kind, up to the forecast's last year (one query).

    A device bought on D with a life of N years reaches its end in year(D) + N, whatever the day of D:
    the calendar year is all the forecast needs, so the group is (year of purchase + life, kind).
    Columns: eol_year, kind, devices, replacement_cost (Decimal).
    """
    rows = list(
        Device.objects.filter(status__in=IN_OFFICE_USE)
        .annotate(eol_year=Year("purchase_date") + F("expected_life_years"))
        .filter(eol_year__lt=first_year + years)
        .values("eol_year", "kind")
        .annotate(devices=Count("id"), replacement_cost=Sum("purchase_price", output_field=MONEY))
        .order_by()
    )
    frame = _frame(rows, ["eol_year", "kind", "devices", "replacement_cost"])
    frame["eol_year"] = frame["eol_year"].astype("int64")
    frame["devices"] = frame["devices"].astype("int64")
    frame["replacement_cost"] = [_money(value) for value in frame["replacement_cost"]]
    # A device past its life before this year is due now: this year's row, and its `overdue` column.
    frame["overdue"] = (frame["eol_year"] < first_year).astype("int64") * frame["devices"]
    frame["year"] = frame["eol_year"].clip(lower=first_year).astype("int64")
    return frame


def _forecast_by_year(groups: pd.DataFrame, first_year: int, years: int) -> pd.DataFrame:
    by_year = groups.groupby("year").agg(devices=("devices", "sum"), overdue=("overdue", "sum"),
                                         replacement_cost=("replacement_cost", _sum_money))
    frame = pd.DataFrame({"year": range(first_year, first_year + years)})
    frame = frame.merge(by_year, how="left", left_on="year", right_index=True)
    _ints(frame, "year", "devices", "overdue")
    frame["replacement_cost"] = [value if isinstance(value, Decimal) else ZERO for value in frame["replacement_cost"]]
    return frame[["year", "devices", "overdue", "replacement_cost"]].reset_index(drop=True)


def _forecast_by_kind(groups: pd.DataFrame) -> pd.DataFrame:
    frame = groups.groupby(["year", "kind"], as_index=False).agg(
        devices=("devices", "sum"), replacement_cost=("replacement_cost", _sum_money))
    _ints(frame, "year", "devices")
    return frame[["year", "kind", "devices", "replacement_cost"]].sort_values(["year", "kind"]).reset_index(drop=True)


def eol_forecast(*, today: date | None = None, years: int = 10) -> pd.DataFrame:
    """The end-of-life forecast of the devices in the office's use (in stock, in use, on loan, in repair).

    One row per calendar year from today's year, `years` rows, every year present: how many devices reach
    the end of their expected life that year (purchase date + expected life) and what replacing them costs
    at their purchase prices. Devices whose life ended before this year are due now: they count in this
    year's row and, again, in its `overdue` column (0 in the other years).
    Columns: year (int), devices (int), overdue (int), replacement_cost (Decimal, exact). One query.
    """
    years = _check_range(years, "years", 1, 50)
    first_year = _today(today).year
    return _forecast_by_year(_eol_groups(first_year=first_year, years=years), first_year, years)


def eol_forecast_by_kind(*, today: date | None = None, years: int = 10) -> pd.DataFrame:
    """The same forecast split by kind of device, for the stacked chart: year, kind, devices, replacement_cost.

    Only the (year, kind) pairs that have devices; `kind` is the stored code (DeviceKind). One query.
    """
    years = _check_range(years, "years", 1, 50)
    first_year = _today(today).year
    return _forecast_by_kind(_eol_groups(first_year=first_year, years=years))


def forecast(*, today: date | None = None, years: int = 10) -> dict[str, pd.DataFrame]:
    """The forecast report: by year (with the overdue) and by year and kind, from one query."""
    years = _check_range(years, "years", 1, 50)
    first_year = _today(today).year
    groups = _eol_groups(first_year=first_year, years=years)
    return {"by_year": _forecast_by_year(groups, first_year, years), "by_kind": _forecast_by_kind(groups)}


# --- inventory ----------------------------------------------------------------------------------------

def _age_band(today: date) -> Case:
    """The age band of a device as a CASE on its purchase date: age >= N years <=> bought on or before
    today minus N years (29 February less a year is 28 February, as Device.age_years counts)."""
    whens = [When(purchase_date__lte=today - relativedelta(years=youngest), then=Value(code))
             for code, _label, youngest in reversed(AGE_BANDS) if youngest]
    return Case(*whens, default=Value(AGE_BANDS[0][0]), output_field=CharField())


def inventory(*, today: date | None = None) -> dict[str, pd.DataFrame]:
    """The devices in the register (all but transferred, scrapped and lost), counted and valued at their
    purchase prices by kind, status, kind and status, location, funding source (the device's own, or
    its contract's) and age band (full years on `today`). Four queries, one GROUP BY each."""
    today = _today(today)
    devices = Device.objects.filter(status__in=IN_REGISTER).order_by()
    figures = {"devices": Count("id"), "value": Sum("purchase_price", output_field=MONEY)}

    def grouped(*keys: str) -> pd.DataFrame:
        frame = _frame(devices.values(*keys).annotate(**figures), [*keys, "devices", "value"])
        frame["value"] = [_money(value) for value in frame["value"]]
        return _ints(frame, "devices")

    kind_status = grouped("kind", "status")
    by_kind = kind_status.groupby("kind", as_index=False).agg(devices=("devices", "sum"), value=("value", _sum_money))
    by_status = kind_status.groupby("status", as_index=False).agg(devices=("devices", "sum"),
                                                                  value=("value", _sum_money))
    by_location = grouped("location").sort_values(["devices", "location"], ascending=[False, True])
    devices = devices.annotate(funding=Coalesce(NullIf("funding_source", Value("")), "contract__funding_source",
                                                Value(""), output_field=CharField()))
    by_funding = grouped("funding")
    devices = devices.annotate(age_band=_age_band(today))
    by_age = grouped("age_band")
    kind_codes = list(DeviceKind.values)
    return {
        "by_kind": _with_zeros(by_kind, "kind", kind_codes, ("devices",), ("value",)),
        "by_status": _with_zeros(by_status, "status", [str(s) for s in IN_REGISTER], ("devices",), ("value",)),
        "by_kind_status": kind_status.sort_values(["kind", "status"]).reset_index(drop=True),
        "by_location": by_location.reset_index(drop=True),
        "by_funding": _with_zeros(by_funding, "funding", list(FundingSource.values), ("devices",), ("value",)),
        "by_age": _with_zeros(by_age, "age_band", [code for code, _label, _young in AGE_BANDS], ("devices",),
                              ("value",)),
    }


# --- wipes --------------------------------------------------------------------------------------------

WIPE_RESULTS: tuple[tuple[str, Promise], ...] = (
    ("validated", gettext_lazy("validated")),
    ("awaiting", gettext_lazy("awaiting validation")),
    ("rejected", pgettext_lazy("wipe result", "rejected")),
    ("failed", gettext_lazy("verification failed")),
)


def wipes(*, today: date | None = None, months: int = 12) -> dict[str, pd.DataFrame]:
    """Sanitizations of the last `months` months (by the month they finished), by result and technique.

    A clerk's "result" of a wipe: validated by a second person, still awaiting validation, rejected by
    the validator, or failed verification. A wipe whose verification failed is never a sanitization
    record (wipe.fitness refuses it): it is the "wipe failed" event of its wipe session, counted by the
    month it was noted. A record superseded by a correction is the same wipe as its correction, which
    counts instead. Three queries.
    """
    months = _check_range(months, "months", 1, 120)
    today = _today(today)
    period = _month_starts(today, months)
    start = _period_start(today, months)
    records = (Sanitization.objects.filter(finished_at__gte=start)
               .exclude(status=SanitizationStatus.SUPERSEDED).order_by())
    counts = {
        "validated": Count("id", filter=Q(status=SanitizationStatus.VALIDATED)),
        "awaiting": Count("id", filter=Q(status=SanitizationStatus.RECORDED)),
        "rejected": Count("id", filter=Q(status=SanitizationStatus.REJECTED)),
    }
    monthly = list(records.annotate(month=TruncMonth("finished_at", output_field=DateField()))
                   .values("month").annotate(**counts))
    failed = list(WipeEvent.objects.filter(kind=WipeEventKind.FAILED, occurred_at__gte=start).order_by()
                  .annotate(month=TruncMonth("occurred_at", output_field=DateField()))
                  .values("month").annotate(failed=Count("id")))
    by_month = _per_month(monthly, period, counts=("validated", "awaiting", "rejected"))
    by_month["failed"] = _per_month(failed, period, counts=("failed",))["failed"]
    by_month["total"] = by_month[["validated", "awaiting", "rejected", "failed"]].sum(axis=1).astype("int64")

    by_technique = _frame(records.values("technique").annotate(wipes=Count("id"), **counts),
                          ["technique", "wipes", "validated", "awaiting", "rejected"])
    by_technique = _with_zeros(by_technique, "technique", list(Technique.values),
                               ("wipes", "validated", "awaiting", "rejected"))
    totals = by_month[[code for code, _label in WIPE_RESULTS]].sum()
    by_result = pd.DataFrame({"result": [code for code, _label in WIPE_RESULTS],
                              "wipes": [int(totals[code]) for code, _label in WIPE_RESULTS]})
    return {"by_month": by_month, "by_technique": by_technique, "by_result": by_result}


# --- loans --------------------------------------------------------------------------------------------

def loans(*, today: date | None = None, months: int = 12) -> dict[str, pd.DataFrame]:
    """Loans by purpose and status as they stand on `today` (open, and open past their planned end), and
    the loans started in each of the last `months` months by purpose. Two queries."""
    months = _check_range(months, "months", 1, 120)
    today = _today(today)
    period = _month_starts(today, months)
    statuses = list(LoanStatus.values)
    counts = {status: Count("id", filter=Q(status=status)) for status in statuses}
    counts["overdue"] = Count("id", filter=Q(status=LoanStatus.OPEN, planned_end_on__lt=today))
    counts["total"] = Count("id")
    by_purpose = _frame(Loan.objects.order_by().values("purpose").annotate(**counts), ["purpose", *counts])
    by_purpose = _with_zeros(by_purpose, "purpose", list(LoanPurpose.values), tuple(counts))
    by_purpose = by_purpose[["purpose", "open", "overdue", *[s for s in statuses if s != "open"], "total"]]

    started = list(Loan.objects.filter(starts_on__gte=period[0], starts_on__lte=today).order_by()
                   .annotate(month=TruncMonth("starts_on")).values("month", "purpose").annotate(n=Count("id")))
    purposes = list(LoanPurpose.values)
    rows = [{"month": row["month"], **{p: row["n"] if p == row["purpose"] else 0 for p in purposes}} for row in started]
    by_month = _per_month(rows, period, counts=tuple(purposes))
    by_month["total"] = by_month[purposes].sum(axis=1).astype("int64")
    return {"by_purpose": by_purpose.reset_index(drop=True), "by_month": by_month}


# --- faults -------------------------------------------------------------------------------------------

def _median_from_counts(values: list[int], counts: list[int]) -> float | None:
    """The median of a sample given as distinct values (sorted) with how often each occurs."""
    total = sum(counts)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]  # positions of the middle one (odd) or two (even)
    found, seen = [], 0
    for value, count in zip(values, counts):
        for position in middle:
            if seen <= position < seen + count:
                found.append(value)
        seen += count
    return sum(found) / len(found)


def faults(*, today: date | None = None, months: int = 12) -> dict[str, pd.DataFrame]:
    """Faults reported and closed in each of the last `months` months; those reported in the period by
    category and status; and the time to resolve those resolved in the period (days from the report to
    the event that resolved it or replaced the device; a rejected report is no repair and is left out):
    count, mean and median per category. Five queries.

    The median is taken over durations counted in whole hours (one GROUP BY), the mean over exact seconds.
    """
    months = _check_range(months, "months", 1, 120)
    today = _today(today)
    period = _month_starts(today, months)
    start = _period_start(today, months)
    reported = FaultReport.objects.filter(created_at__gte=start).order_by()
    monthly = list(reported.annotate(month=TruncMonth("created_at", output_field=DateField()))
                   .values("month").annotate(reported=Count("id")))
    closed = list(FaultEvent.objects.filter(to_status__in=FAULT_CLOSED, occurred_at__gte=start).order_by()
                  .annotate(month=TruncMonth("occurred_at", output_field=DateField()))
                  .values("month").annotate(closed=Count("id")))
    by_month = _per_month(monthly, period, counts=("reported",))
    by_month["closed"] = _per_month(closed, period, counts=("closed",))["closed"]

    statuses = list(FaultStatus.values)
    counts = {status: Count("id", filter=Q(status=status)) for status in statuses}
    counts["total"] = Count("id")
    by_category = _frame(reported.values("category").annotate(**counts), ["category", *counts])
    by_category = _with_zeros(by_category, "category", list(FaultCategory.values), tuple(counts))

    resolving = (FaultEvent.objects.filter(to_status__in=[FaultStatus.RESOLVED, FaultStatus.REPLACED],
                                           occurred_at__gte=start).order_by()
                 .annotate(seconds=ElapsedSeconds("occurred_at", "fault__created_at")))
    means = {row["fault__category"]: row for row in resolving.values("fault__category").annotate(
        resolved=Count("id"), total_seconds=Sum("seconds"))}
    hours = _frame(resolving.annotate(hours=WholeHours("seconds")).values("fault__category", "hours")
                   .annotate(n=Count("id")), ["fault__category", "hours", "n"]).sort_values("hours")
    rows = []
    for category in FaultCategory.values:
        row = means.get(category, {})
        resolved = int(row.get("resolved") or 0)
        mine = hours[hours["fault__category"] == category]
        median_hours = _median_from_counts([int(h) for h in mine["hours"]], [int(n) for n in mine["n"]])
        rows.append({
            "category": category, "resolved": resolved,
            "mean_days": round(float(row["total_seconds"]) / resolved / 86400, 1) if resolved else None,
            "median_days": round(median_hours / 24, 1) if median_hours is not None else None,
        })
    time_to_resolve = pd.DataFrame(rows, columns=["category", "resolved", "mean_days", "median_days"])
    return {"by_month": by_month, "by_category": by_category, "time_to_resolve": time_to_resolve}


# --- e-Inclusion ----------------------------------------------------------------------------------------

def einclusion(*, today: date | None = None, project: int | None = None) -> dict[str, pd.DataFrame]:
    """Coverage of the grant projects (e-Inclusion) per kind of beneficiary, and per obligation.

    Per kind: the beneficiaries, the active ones, those holding a project's set now (an open loan of the
    project), the sets transferred into their ownership (completed transfers to them), and the months of
    the durability obligations due so far (each month an obligation has run, up to `today`, for each
    beneficiary it applies to) against those proven by a record. The same figures as
    donations.selectors.obligation_coverage, summed, but in four queries for every project and
    obligation at once. `project` narrows it to one project (its id).
    """
    today = _today(today)
    beneficiaries = Beneficiary.objects.order_by()
    obligations = ProjectObligation.objects.select_related("project").order_by("project__name", "kind", "id")
    records = ObligationRecord.objects.filter(month__lte=today).order_by()
    transfers = Transfer.objects.filter(status=TransferStatus.COMPLETED,
                                        recipient__beneficiary__isnull=False).order_by()
    if project is not None:
        if isinstance(project, bool) or not isinstance(project, int) or not GrantProject.objects.filter(
                pk=project).exists():
            raise InvalidInput(_("No grant project has this number."), field="project")
        beneficiaries = beneficiaries.filter(project_id=project)
        obligations = obligations.filter(project_id=project)
        records = records.filter(obligation__project_id=project)
        transfers = transfers.filter(recipient__beneficiary__project_id=project)

    holding = Exists(Loan.objects.filter(recipient_id=OuterRef("recipient_id"), status=LoanStatus.OPEN,
                                         purpose=LoanPurpose.GRANT_PROJECT))
    groups = _frame(beneficiaries.values("project_id", "kind").annotate(
        beneficiaries=Count("id"), active=Count("id", filter=Q(is_active=True)), holding=Count("id", filter=holding)),
        ["project_id", "kind", "beneficiaries", "active", "holding"])
    transferred = dict(transfers.values_list("recipient__beneficiary__kind").annotate(n=Count("id"))
                       .values_list("recipient__beneficiary__kind", "n"))
    proven = _frame(records.values("obligation_id", "beneficiary__kind").annotate(n=Count("id")),
                    ["obligation_id", "beneficiary__kind", "n"])

    kinds = list(BeneficiaryKind.values)
    due_by_kind = dict.fromkeys(kinds, 0)
    per_obligation = []
    for obligation in obligations:
        months_so_far = sum(1 for month in obligation.months() if month <= today)
        mine = groups[groups["project_id"] == obligation.project_id]
        if obligation.applies_to:
            mine = mine[mine["kind"] == obligation.applies_to]
        due = 0
        for kind, count in zip(mine["kind"], mine["beneficiaries"]):
            due_by_kind[kind] = due_by_kind.get(kind, 0) + int(count) * months_so_far
            due += int(count) * months_so_far
        done = int(proven.loc[proven["obligation_id"] == obligation.pk, "n"].sum())
        per_obligation.append({"project": obligation.project.name, "obligation": obligation.kind,
                               "description": obligation.description, "months": months_so_far,
                               "due": due, "proven": done, "coverage": _percent(done, due)})
    proven_by_kind = proven.groupby("beneficiary__kind")["n"].sum().to_dict() if len(proven) else {}

    summed = groups.groupby("kind")[["beneficiaries", "active", "holding"]].sum() if len(groups) else None
    rows = []
    for kind in kinds:
        present = summed is not None and kind in summed.index
        due, done = due_by_kind.get(kind, 0), int(proven_by_kind.get(kind, 0))
        rows.append({
            "kind": kind,
            "beneficiaries": int(summed.loc[kind, "beneficiaries"]) if present else 0,
            "active": int(summed.loc[kind, "active"]) if present else 0,
            "holding": int(summed.loc[kind, "holding"]) if present else 0,
            "sets_transferred": int(transferred.get(kind, 0)),
            "months_due": due, "months_proven": done, "coverage": _percent(done, due),
        })
    by_kind = pd.DataFrame(rows, columns=["kind", "beneficiaries", "active", "holding", "sets_transferred",
                                          "months_due", "months_proven", "coverage"])
    by_obligation = pd.DataFrame(per_obligation, columns=["project", "obligation", "description", "months", "due",
                                                          "proven", "coverage"])
    return {"by_kind": by_kind, "by_obligation": by_obligation}


# --- the registry ---------------------------------------------------------------------------------------

def _choices(choices) -> dict[str, Promise | str]:
    return dict(choices)


def _registry() -> dict[str, ReportSpec]:
    devices = Column("devices", gettext_lazy("devices"))
    value = Column("value", gettext_lazy("value at purchase prices"), "money")
    kind = Column("kind", gettext_lazy("kind"), "choice", _choices(DeviceKind.choices))
    status = Column("status", gettext_lazy("status"), "choice", _choices(DeviceStatus.choices))
    month = Column("month", gettext_lazy("month"), "month")
    year = Column("year", gettext_lazy("year"), "year")
    replacement = Column("replacement_cost", gettext_lazy("replacement cost at purchase prices"), "money")
    years = Param("years", gettext_lazy("years ahead"), 10, 1, 50)
    months = Param("months", gettext_lazy("months back"), 12, 1, 120)
    loan_statuses = _choices(LoanStatus.choices)
    fault_statuses = _choices(FaultStatus.choices)
    wipe_counts = (Column("validated", gettext_lazy("validated")),
                   Column("awaiting", gettext_lazy("awaiting validation")),
                   Column("rejected", pgettext_lazy("wipe result", "rejected")))
    reports = [
        ReportSpec(
            "inventory", gettext_lazy("Inventory"),
            gettext_lazy("Devices in the register by kind, status, location, funding source and age."),
            inventory, (
                TableSpec("by_kind", gettext_lazy("By kind"), (kind, devices, value)),
                TableSpec("by_status", gettext_lazy("By status"), (status, devices, value)),
                TableSpec("by_kind_status", gettext_lazy("By kind and status"), (kind, status, devices, value)),
                TableSpec("by_location", gettext_lazy("By location"), (
                    Column("location", gettext_lazy("location"), "text", blank=gettext_lazy("(no location)")),
                    devices, value)),
                TableSpec("by_funding", gettext_lazy("By funding source"), (
                    Column("funding", gettext_lazy("funding source"), "choice", _choices(FundingSource.choices),
                           blank=gettext_lazy("not stated")),
                    devices, value)),
                TableSpec("by_age", gettext_lazy("By age"), (
                    Column("age_band", gettext_lazy("age"), "choice",
                           {code: label for code, label, _young in AGE_BANDS}),
                    devices, value)),
            ), charts=("inventory", "inventory_age")),
        ReportSpec(
            "forecast", gettext_lazy("End-of-life forecast"),
            gettext_lazy("Devices in use reaching the end of their expected life, year by year, and the cost of "
                         "replacing them at purchase prices; those already past it are due this year."),
            forecast, (
                TableSpec("by_year", gettext_lazy("By year"), (
                    year, Column("devices", gettext_lazy("devices reaching end of life")),
                    Column("overdue", gettext_lazy("of which already past their life")), replacement)),
                TableSpec("by_kind", gettext_lazy("By year and kind"), (year, kind, devices, replacement)),
            ), params=(years,), charts=("forecast",)),
        ReportSpec(
            "wipes", gettext_lazy("Data sanitization"),
            gettext_lazy("Wipes of storage media per month, by result and by technique."),
            wipes, (
                TableSpec("by_month", gettext_lazy("Per month"), (
                    month, *wipe_counts, Column("failed", gettext_lazy("verification failed")),
                    Column("total", gettext_lazy("total")))),
                TableSpec("by_technique", gettext_lazy("By technique"), (
                    Column("technique", gettext_lazy("technique"), "choice", _choices(Technique.choices)),
                    Column("wipes", gettext_lazy("sanitizations")), *wipe_counts)),
                TableSpec("by_result", gettext_lazy("By result"), (
                    Column("result", gettext_lazy("result"), "choice", dict(WIPE_RESULTS)),
                    Column("wipes", gettext_lazy("wipes")))),
            ), params=(months,), charts=("wipes",)),
        ReportSpec(
            "loans", gettext_lazy("Loans"),
            gettext_lazy("Loans by purpose and status, the open ones past their planned end, and the loans "
                         "started per month."),
            loans, (
                TableSpec("by_purpose", gettext_lazy("By purpose and status"), (
                    Column("purpose", gettext_lazy("purpose"), "choice", _choices(LoanPurpose.choices)),
                    Column("open", loan_statuses["open"]),
                    Column("overdue", gettext_lazy("open past the planned end")),
                    *[Column(code, label) for code, label in loan_statuses.items() if code != "open"],
                    Column("total", gettext_lazy("total")))),
                TableSpec("by_month", gettext_lazy("Loans started per month"), (
                    month, *[Column(code, label) for code, label in LoanPurpose.choices],
                    Column("total", gettext_lazy("total")))),
            ), params=(months,), charts=("loans",)),
        ReportSpec(
            "faults", gettext_lazy("Faults"),
            gettext_lazy("Faults reported and closed per month, by category and status, and the time it took "
                         "to resolve them."),
            faults, (
                TableSpec("by_month", gettext_lazy("Per month"), (
                    month, Column("reported", gettext_lazy("reported")), Column("closed", gettext_lazy("closed")))),
                TableSpec("by_category", gettext_lazy("Reported in the period, by category and status"), (
                    Column("category", gettext_lazy("category"), "choice", _choices(FaultCategory.choices)),
                    *[Column(code, label) for code, label in fault_statuses.items()],
                    Column("total", gettext_lazy("total")))),
                TableSpec("time_to_resolve", gettext_lazy("Time to resolve (resolved in the period)"), (
                    Column("category", gettext_lazy("category"), "choice", _choices(FaultCategory.choices)),
                    Column("resolved", gettext_lazy("resolved")),
                    Column("mean_days", gettext_lazy("mean (days)"), "number"),
                    Column("median_days", gettext_lazy("median (days)"), "number"))),
            ), params=(months,), charts=("faults",)),
        ReportSpec(
            "einclusion", gettext_lazy("e-Inclusion coverage"),
            gettext_lazy("Beneficiaries of the grant projects by kind: who holds a set, the sets transferred, "
                         "and the months of the obligations proven against those due."),
            einclusion, (
                TableSpec("by_kind", gettext_lazy("By kind of beneficiary"), (
                    Column("kind", gettext_lazy("kind of beneficiary"), "choice", _choices(BeneficiaryKind.choices)),
                    Column("beneficiaries", gettext_lazy("beneficiaries")),
                    Column("active", gettext_lazy("active ones")),
                    Column("holding", gettext_lazy("holding a set now")),
                    Column("sets_transferred", gettext_lazy("sets transferred")),
                    Column("months_due", gettext_lazy("obligation months due")),
                    Column("months_proven", gettext_lazy("obligation months proven")),
                    Column("coverage", gettext_lazy("coverage (%)"), "percent"))),
                TableSpec("by_obligation", gettext_lazy("By obligation"), (
                    Column("project", gettext_lazy("project"), "text"),
                    Column("obligation", gettext_lazy("obligation"), "choice", _choices(ObligationKind.choices)),
                    Column("description", gettext_lazy("description"), "text"),
                    Column("months", gettext_lazy("months so far")),
                    Column("due", gettext_lazy("months due")),
                    Column("proven", gettext_lazy("months proven")),
                    Column("coverage", gettext_lazy("coverage (%)"), "percent"))),
            ), params=(Param("project", gettext_lazy("project"), None, 1, 2**31 - 1),), charts=("einclusion",)),
    ]
    return {report.name: report for report in reports}


REPORTS: dict[str, ReportSpec] = _registry()


def get_report(name: str) -> ReportSpec:
    """The report called `name`; InvalidInput naming `name` when there is none."""
    try:
        return REPORTS[name]
    except KeyError:
        raise InvalidInput(_("There is no report called “%(name)s”.") % {"name": name}, field="name") from None


_INTEGER = re.compile(r"\s*[+-]?\d{1,12}\s*")


def parse_params(spec: ReportSpec, query: Mapping[str, str]) -> dict[str, int]:
    """The report's parameters from a request's query: whole numbers in range, defaults for the missing.

    A value that is no whole number, or out of range, is refused with InvalidInput naming the parameter.
    Other keys (format, table) are not the report's and are left alone.
    """
    params = {}
    for param in spec.params:
        raw = query.get(param.name)
        if raw is None or str(raw).strip() == "":
            if param.default is not None:
                params[param.name] = param.default
            continue
        if not _INTEGER.fullmatch(str(raw)):
            raise InvalidInput(_("Give a whole number from %(min)d to %(max)d.")
                               % {"min": param.minimum, "max": param.maximum}, field=param.name)
        params[param.name] = _check_range(int(raw), param.name, param.minimum, param.maximum)
    return params


def run(name: str, *, today: date | None = None, **params) -> Result:
    """Compute the report called `name` on `today` with its parameters (checked): its tables with their specs."""
    spec = get_report(name)
    today = _today(today)
    frames = spec.function(today=today, **params)
    return Result(spec=spec, as_of=today, params=params,
                  tables=[Table(spec=table, frame=frames[table.name]) for table in spec.tables])


# --- charts -----------------------------------------------------------------------------------------------

def _month_label(value: date) -> str:
    return value.strftime("%m.%Y")


def _labels(column: Column, values) -> list[str]:
    return [str(column.display(value)) for value in values]


def _inventory_chart(result: Result) -> bytes:
    table = result.table("by_kind_status")
    frame = table.frame
    kind, status = table.columns[0], table.columns[1]
    pivot = frame.pivot_table(index="kind", columns="status", values="devices", aggfunc="sum", fill_value=0)
    kinds = [code for code in DeviceKind.values if code in pivot.index]
    statuses = [str(code) for code in IN_REGISTER if code in pivot.columns]
    return bar_chart(title=_("Devices in the register by kind and status"), categories=_labels(kind, kinds),
                     series={str(status.display(code)): [int(pivot.loc[k, code]) for k in kinds] for code in statuses},
                     ylabel=_("devices"))


def _inventory_age_chart(result: Result) -> bytes:
    table = result.table("by_age")
    return bar_chart(title=_("Devices in the register by age"), categories=_labels(table.columns[0],
                                                                                     table.frame["age_band"]),
                     series={_("devices"): [int(v) for v in table.frame["devices"]]}, ylabel=_("devices"))


def _forecast_chart(result: Result) -> bytes:
    years = [int(y) for y in result.table("by_year").frame["year"]]
    table = result.table("by_kind")
    frame = table.frame
    kinds = [code for code in DeviceKind.values if code in set(frame["kind"])]
    series = {}
    for code in kinds:
        mine = frame[frame["kind"] == code].set_index("year")["devices"]
        series[str(table.columns[1].display(code))] = [int(mine.get(y, 0)) for y in years]
    if not series:
        series = {_("devices"): [0] * len(years)}
    return bar_chart(title=_("Devices reaching the end of their expected life"), categories=[str(y) for y in years],
                     series=series, ylabel=_("devices"))


def _monthly_chart(result: Result, table_name: str, keys: tuple[str, ...], title: str) -> bytes:
    table = result.table(table_name)
    labels = {column.key: str(column.label) for column in table.columns}
    return line_chart(title=title, x=[_month_label(m) for m in table.frame["month"]],
                      series={labels[key]: [int(v) for v in table.frame[key]] for key in keys})


def _einclusion_chart(result: Result) -> bytes:
    table = result.table("by_kind")
    frame = table.frame[(table.frame["beneficiaries"] > 0) | (table.frame["months_due"] > 0)]
    if frame.empty:  # no project yet: every kind at zero, rather than an empty frame
        frame = table.frame
    return bar_chart(title=_("Obligation months proven against those due"),
                     categories=_labels(table.columns[0], frame["kind"]), stacked=False,
                     series={_("due"): [int(v) for v in frame["months_due"]],
                             _("proven"): [int(v) for v in frame["months_proven"]]}, ylabel=_("months"))


CHARTS: dict[str, tuple[str, Callable[[Result], bytes]]] = {
    "inventory": ("inventory", _inventory_chart),
    "inventory_age": ("inventory", _inventory_age_chart),
    "forecast": ("forecast", _forecast_chart),
    "wipes": ("wipes", lambda result: _monthly_chart(
        result, "by_month", ("validated", "awaiting", "rejected", "failed"), _("Wipes per month by result"))),
    "loans": ("loans", lambda result: _monthly_chart(result, "by_month", tuple(
        c.key for c in result.table("by_month").columns[1:-1]), _("Loans started per month by purpose"))),
    "faults": ("faults", lambda result: _monthly_chart(result, "by_month", ("reported", "closed"),
                                                       _("Faults reported and closed per month"))),
    "einclusion": ("einclusion", _einclusion_chart),
}


def result_charts(result: Result) -> list[bytes]:
    """The charts of a computed report, as PNG bytes, in the order its page shows them."""
    return [CHARTS[chart][1](result) for chart in result.spec.charts]


def chart_png(name: str, *, today: date | None = None, **params) -> bytes:
    """One chart as PNG bytes, for a page or a PDF: "inventory" (devices by kind, stacked by status),
    "inventory_age", "forecast" (devices per year, stacked by kind; `years`), "wipes", "loans", "faults"
    (per month; `months`) and "einclusion" (obligation months due and proven per kind of beneficiary)."""
    try:
        report, draw = CHARTS[name]
    except KeyError:
        raise InvalidInput(_("There is no chart called “%(name)s”.") % {"name": name}, field="name") from None
    return draw(run(report, today=today, **params))
