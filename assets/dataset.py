"""A synthetic register of any size, for load tests and query plans: `manage.py generate_dataset`.

Nothing here goes through the services: a million devices one service call at a time would take a day.
Instead every row is written in bulk with the ids chosen here (COPY on PostgreSQL, executemany
elsewhere), and the generator itself keeps the rules the services keep: each device's events walk the
lifecycle table from registration to its status, each loan, wipe and transfer sits on the move it
explains, and every audited model gets its history row ("+", created). The sequences are reset
afterwards so that the services continue from the highest id.

The register part (suppliers, contracts, devices, storage media, device events) is written here; each
app built on the register adds its records from a `dataset` module of its own (loans: councillors and
loans; wipe: sanitizations; donations: projects, orders, transfers, liquidations), discovered as
load_demo discovers `demo` modules, so the register never imports the apps built on it. A module
defines `Contribution(ctx)` with `prepare()`, `on_device(plan)` and `finish()`.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.db.models.fields import NOT_PROVIDED

from assets.choices import DeviceKind, DeviceStatus, FundingSource, MediumKind
from assets.models import Contract, Device, DeviceEvent, StorageMedium, Supplier
from core.roles import Role

S = DeviceStatus
UTC = dt_timezone.utc

# Final statuses in the proportions of a register some years old: most devices at work or on loan, a
# tail retired, wiped and given away or scrapped, a few lost.
STATUS_WEIGHTS: dict[str, float] = {
    S.IN_STOCK: 0.12, S.IN_USE: 0.35, S.ON_LOAN: 0.22, S.IN_REPAIR: 0.03, S.RETIRED: 0.08,
    S.SANITIZED: 0.05, S.TRANSFERRED: 0.08, S.SCRAPPED: 0.05, S.LOST: 0.02,
}
# The moves after registration (in stock) that end in each status; each is allowed by DEVICE_TRANSITIONS.
STATUS_TAILS: dict[str, tuple[str, ...]] = {
    S.IN_STOCK: (),
    S.IN_USE: (S.IN_USE,),
    S.ON_LOAN: (S.ON_LOAN,),
    S.IN_REPAIR: (S.IN_USE, S.IN_REPAIR),
    S.RETIRED: (S.RETIRED,),
    S.SANITIZED: (S.RETIRED, S.SANITIZED),
    S.TRANSFERRED: (S.RETIRED, S.SANITIZED, S.TRANSFERRED),
    S.SCRAPPED: (S.RETIRED, S.SANITIZED, S.SCRAPPED),
    S.LOST: (S.ON_LOAN, S.LOST),
}
# Round trips that bring a device back to stock: in use, on loan, in repair.
CYCLES: tuple[tuple[str, str], ...] = ((S.IN_USE, S.IN_STOCK), (S.ON_LOAN, S.IN_STOCK), (S.IN_REPAIR, S.IN_STOCK))
MOVE_REASONS: dict[str, str] = {
    S.IN_STOCK: "przyjęcie na stan", S.IN_USE: "wydanie do użytku", S.ON_LOAN: "użyczenie",
    S.IN_REPAIR: "naprawa serwisowa", S.RETIRED: "wycofanie z użytku", S.SANITIZED: "bezpieczne usunięcie danych",
    S.TRANSFERRED: "nieodpłatne przekazanie", S.SCRAPPED: "likwidacja (ZSEE)", S.LOST: "kradzież, zgłoszenie na policję",
}

# kind, share, (manufacturer, model, price), medium kinds with capacities (None: no medium)
KINDS: list[tuple[str, float, list[tuple[str, str, str]], list[tuple[str, int]] | None]] = [
    (DeviceKind.LAPTOP, 0.35, [("Dell", "Latitude 5420", "3899.00"), ("Lenovo", "ThinkPad E14", "3499.00"),
                               ("HP", "ProBook 450 G8", "3299.00")], [(MediumKind.NVME, 512), (MediumKind.SSD, 256)]),
    (DeviceKind.TABLET, 0.20, [("Samsung", "Galaxy Tab S6 Lite", "1599.00"), ("Lenovo", "Tab M10", "999.00"),
                               ("Apple", "iPad 9", "1899.00")], [(MediumKind.EMMC, 64), (MediumKind.EMMC, 128)]),
    (DeviceKind.DESKTOP, 0.20, [("Dell", "OptiPlex 3080", "2899.00"), ("HP", "ProDesk 400 G7", "2699.00")],
     [(MediumKind.HDD, 1000), (MediumKind.SSD, 512)]),
    (DeviceKind.MONITOR, 0.12, [("Iiyama", "ProLite XU2493HS", "599.00"), ("Dell", "P2422H", "899.00")], None),
    (DeviceKind.ROUTER, 0.05, [("TP-Link", "Archer MR600", "399.00"), ("Huawei", "B535", "449.00")], None),
    (DeviceKind.PHONE, 0.05, [("Samsung", "Galaxy A52", "1499.00"), ("Motorola", "moto g54", "899.00")],
     [(MediumKind.EMMC, 128)]),
    (DeviceKind.OTHER, 0.03, [("Epson", "EcoTank L3250", "749.00")], None),
]
SUPPLIER_NAMES = ("Komputronik", "X-kom", "Action", "AB", "Also Polska", "Incom", "Asbis", "Tech Data", "Senetic",
                  "Suntar")
CITIES = ("Kielce", "Leszno", "Radom", "Gniezno", "Przemyśl", "Płock", "Tarnów", "Elbląg", "Siedlce", "Łomża")
LOCATIONS = ("Urząd Miasta, pok. {n}", "Biuro Rady, pok. {n}", "Szkoła Podstawowa nr {n}", "MOPS, pok. {n}",
             "Magazyn IT, regał {n}")
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def valid_nip(n: int) -> str:
    """A ten-digit NIP with a correct check digit, from a number (deterministic, distinct per number)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    base = 100_000_000 + (n * 7_919) % 899_999_999
    while True:
        digits = [int(c) for c in f"{base:09d}"]
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return f"{base:09d}{check}"
        base += 1


def document_code(n: int) -> str:
    """A verification code in the stored form (XXXXX-XXXXX), distinct for each n below 32**10.

    Multiplying by an odd number is a bijection modulo 2**50, so the codes look random but never clash.
    """
    value = (n * 0x9E3779B97F4A7C15 + 0x5DEECE66D) % (1 << 50)
    raw = "".join(_CODE_ALPHABET[(value >> (5 * i)) & 31] for i in range(10))
    return f"{raw[:5]}-{raw[5:]}"


# --- bulk writing ---------------------------------------------------------------------------------


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


class TableSink:
    """Rows of one table with ids chosen here, written in batches; its history rows written beside it.

    `fields` are the attnames each row gives, in order, starting with "id"; every other column takes
    its default (or "" / NULL) once for all rows. With `history`, each row also gets a historical row
    of type "+" dated `history_date_field` (a datetime column of the row) by `history_user`.
    """

    def __init__(self, writer: "BulkWriter", model: type[models.Model], fields: list[str], *,
                 history: bool = False, history_date_field: str | None = None, history_reason: str = "") -> None:
        self.writer = writer
        self.model = model
        self.fields = fields
        self.table = model._meta.db_table
        self.constants = self._constants(model, fields)
        self.columns = [*fields, *self.constants]
        self.rows: list[tuple] = []
        self.next_id = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        self.history = None
        if history:
            historical = model.history.model
            self.history = {
                "model": historical,
                "table": historical._meta.db_table,
                "date_index": fields.index(history_date_field) if history_date_field else None,
                "reason": history_reason,
                "next_id": (historical._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1,
                "columns": [*fields, *self.constants, "history_id", "history_date", "history_type",
                            "history_user_id", "history_change_reason"],
            }

    @staticmethod
    def _constants(model: type[models.Model], given: list[str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        values = {}
        for f in model._meta.concrete_fields:
            if f.attname in given:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.default is not NOT_PROVIDED:
                value = f.default() if callable(f.default) else f.default
            elif f.null:
                value = None
            elif isinstance(f, (models.CharField, models.TextField, models.FileField)):
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value in the data set")
            if isinstance(f, models.JSONField):
                value = "[]" if value == [] else "{}"
            values[f.attname] = value
        return values

    def take_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.writer.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        started = time.monotonic()
        constants = tuple(self.constants.values())
        rows = [row + constants for row in self.rows]
        self.writer.write(self.table, self.columns, rows)
        count = len(rows)
        self.writer.account(self.table, count, time.monotonic() - started)
        if self.history is not None:
            started = time.monotonic()
            h = self.history
            user, reason, index = self.writer.history_user_id, h["reason"], h["date_index"]
            now = datetime.now(UTC)
            history_rows = []
            next_id = h["next_id"]
            for row in rows:
                history_rows.append(row + (next_id, row[index] if index is not None else now, "+", user, reason))
                next_id += 1
            h["next_id"] = next_id
            self.writer.write(h["table"], h["columns"], history_rows)
            self.writer.account(h["table"], len(history_rows), time.monotonic() - started)
        self.rows = []

    def tables(self) -> list[str]:
        return [self.table] + ([self.history["table"]] if self.history else [])

    def models(self) -> list[type[models.Model]]:
        return [self.model] + ([self.history["model"]] if self.history else [])


class BulkWriter:
    """Writes rows: COPY on PostgreSQL (psycopg 3), executemany elsewhere; counts rows and time per table."""

    def __init__(self, *, batch_size: int) -> None:
        self.batch_size = batch_size
        self.postgres = connection.vendor == "postgresql"
        self.sinks: list[TableSink] = []
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.history_user_id: int | None = None
        self.rebuilt: dict[str, float] = {}

    def sink(self, model: type[models.Model], fields: list[str], **options) -> TableSink:
        sink = TableSink(self, model, fields, **options)
        self.sinks.append(sink)
        return sink

    def account(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] += rows
        self.seconds[table] += seconds

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            if self.postgres:
                lines = "".join("\t".join(map(_copy_text, row)) + "\n" for row in rows)
                with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                    copy.write(lines)
            else:
                adapted = [tuple(self._adapt(v) for v in row) for row in rows]
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})",
                                   adapted)

    @staticmethod
    def _adapt(value: Any) -> Any:
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, date):
            return connection.ops.adapt_datefield_value(value)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def flush_all(self) -> None:
        for sink in self.sinks:
            sink.flush()

    def strip_tables(self) -> None:
        """PostgreSQL, into an empty register: drop the secondary indexes and the foreign-key and unique
        constraints of every table about to be filled, so COPY only appends; `rebuild_tables` recreates them
        from their own definitions, which checks every row at once (a duplicate or an orphan fails the run).
        Maintaining them row by row is several times slower. Inside the command's transaction: all or nothing."""
        self.stripped = []
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the actors' rows: checked now, nothing pending
            for table in dict.fromkeys(name for sink in self.sinks for name in sink.tables()):
                cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                               "%s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC", [table])
                constraints = cursor.fetchall()
                cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                               "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM "
                               "pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)", [table])
                indexes = cursor.fetchall()
                for name, _definition in constraints:
                    cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} DROP CONSTRAINT "
                                   f"{connection.ops.quote_name(name)}")
                for name, _definition in indexes:
                    cursor.execute(f"DROP INDEX {name}")
                self.stripped.append((table, constraints, indexes))

    def rebuild_tables(self) -> None:
        with connection.cursor() as cursor:
            for table, constraints, indexes in getattr(self, "stripped", []):
                started = time.monotonic()
                for _name, definition in indexes:
                    cursor.execute(definition)
                for name, definition in reversed(constraints):  # unique constraints first, then foreign keys
                    cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} ADD CONSTRAINT "
                                   f"{connection.ops.quote_name(name)} {definition}")
                self.rebuilt[table] = time.monotonic() - started
        self.stripped = []

    def reset_sequences(self) -> None:
        """Sequences after the highest id written, so the services' next row does not collide."""
        model_list = [model for sink in self.sinks for model in sink.models()]
        statements = connection.ops.sequence_reset_sql(no_style(), model_list)
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# --- the plan of one device, handed to every app's contribution -------------------------------------


@dataclass(slots=True)
class DevicePlan:
    """One generated device: what it is and the moves of its life, oldest first (registration first)."""

    id: int
    inventory_number: str
    kind: str
    contract_id: int
    funding_source: str
    purchase_date: date
    status: str
    moves: list[tuple[str, datetime]]
    media: list[tuple[int, str]] = field(default_factory=list)  # (medium id, medium kind)


@dataclass
class DatasetContext:
    """What the contributions share: the random source, the writer, the actors and a sample PDF."""

    rng: random.Random
    writer: BulkWriter
    devices: int
    today: date
    it_user_id: int
    validator_user_id: int
    manager_user_id: int
    shared: dict[str, Any] = field(default_factory=dict)
    document_sink: TableSink | None = None
    pdf: dict[str, Any] = field(default_factory=dict)

    def document(self, *, kind: str, title: str, subject: models.Model | type[models.Model], subject_id: int,
                 issued_at: datetime) -> int:
        """An issued-document row with its own verification code; all rows share one small real PDF."""
        sink = self.document_sink
        document_id = sink.take_id()
        content_type_id = ContentType.objects.get_for_model(subject).pk
        sink.add((document_id, document_code(document_id), kind, title, self.pdf["name"], self.pdf["sha256"],
                  self.pdf["size"], "dataset-1", issued_at, self.it_user_id, content_type_id, subject_id))
        return document_id


def _sample_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    from io import BytesIO

    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(72, 770, "Synthetic data set: sample document shared by every generated record")
    page.showPage()
    page.save()
    return buffer.getvalue()


def ensure_pdf(ctx: DatasetContext) -> None:
    """The one PDF file that every generated document row points at (its SHA-256 is theirs)."""
    content = _sample_pdf()
    name = default_storage.save("documents/dataset/sample.pdf", ContentFile(content))
    ctx.pdf = {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}


def ensure_actors() -> tuple[int, int, int]:
    """The IT clerk, the second IT person who validates wipes, and the project manager of the data set."""
    User = get_user_model()
    ids = []
    for username, role in (("dataset-it", Role.IT_OFFICE), ("dataset-validator", Role.IT_OFFICE),
                           ("dataset-manager", Role.PROJECT_MANAGER)):
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            group = Group.objects.filter(name=role).first()
            if group:
                user.groups.add(group)
        ids.append(user.pk)
    return ids[0], ids[1], ids[2]


# --- the register's own part -----------------------------------------------------------------------


class RegisterGenerator:
    """Suppliers, contracts, devices with their media and events; calls each contribution per device."""

    def __init__(self, ctx: DatasetContext, *, events_per_device: float) -> None:
        self.ctx = ctx
        self.events_per_device = events_per_device
        w = ctx.writer
        self.suppliers = w.sink(Supplier, ["id", "name", "nip", "address", "created_at", "updated_at"],
                                history=True, history_date_field="created_at")
        self.contracts_sink = w.sink(
            Contract, ["id", "number", "signed_on", "supplier_id", "subject", "value", "funding_source",
                       "funding_details", "created_at", "updated_at"], history=True, history_date_field="created_at")
        self.device_sink = w.sink(
            Device, ["id", "inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                     "purchase_price", "contract_id", "warranty_ends_on", "location", "status", "status_changed_at",
                     "retirement_reason", "created_at", "updated_at"],
            history=True, history_date_field="status_changed_at")
        self.media_sink = w.sink(
            StorageMedium, ["id", "device_id", "kind", "manufacturer", "serial_number", "capacity_gb",
                            "created_at", "updated_at"], history=True, history_date_field="created_at")
        self.event_sink = w.sink(DeviceEvent, ["id", "device_id", "occurred_at", "actor_id", "from_status",
                                               "to_status", "reason"])
        self.contracts: list[tuple[int, str, date]] = []

    def build_contracts(self) -> None:
        rng, count = self.ctx.rng, self.ctx.devices
        supplier_ids = []
        for n in range(max(3, min(len(SUPPLIER_NAMES) * len(CITIES), count // 5_000))):
            supplier_id = self.suppliers.take_id()
            name = f"{SUPPLIER_NAMES[n % len(SUPPLIER_NAMES)]} {CITIES[(n // len(SUPPLIER_NAMES)) % len(CITIES)]} " \
                   f"sp. z o.o. ({supplier_id})"
            created = datetime(2011, 1, 1, 9, tzinfo=UTC)
            self.suppliers.add((supplier_id, name, valid_nip(supplier_id), f"ul. Handlowa {n + 1}, {CITIES[n % 10]}",
                                created, created))
            supplier_ids.append(supplier_id)
        fundings = [FundingSource.OWN_BUDGET] * 6 + [FundingSource.EU_FUNDS] * 3 + [FundingSource.NATIONAL_GRANT]
        for n in range(max(2, count // 500)):
            contract_id = self.contracts_sink.take_id()
            signed = date(2012, 1, 2) + timedelta(days=rng.randrange(0, 13 * 365))
            funding = fundings[n % len(fundings)]
            created = datetime.combine(signed, datetime.min.time(), UTC) + timedelta(hours=10)
            self.contracts_sink.add((contract_id, f"ZP/{signed.year}/{contract_id:05d}", signed,
                                     rng.choice(supplier_ids), "dostawa sprzętu komputerowego",
                                     Decimal("500000.00"), funding,
                                     "POPC 3.1" if funding == FundingSource.EU_FUNDS else "", created, created))
            self.contracts.append((contract_id, funding, signed))

    def moves_for(self, status: str, registered: datetime) -> list[tuple[str, datetime]]:
        rng = self.ctx.rng
        tail = STATUS_TAILS[status]
        mean_cycles = max(0.0, (self.events_per_device - 1 - len(tail)) / 2)
        cycles = rng.randint(0, int(round(2 * mean_cycles))) if mean_cycles else 0
        steps: list[str] = [S.IN_STOCK]
        for _ in range(cycles):
            steps.extend(rng.choice(CYCLES))
        steps.extend(tail)
        end = datetime.combine(self.ctx.today, datetime.min.time(), UTC) - timedelta(days=1)
        span = max((end - registered).total_seconds(), 3600.0 * len(steps))
        gap = span / len(steps)
        moves, at = [], registered
        for step in steps:
            moves.append((step, at))
            at = at + timedelta(seconds=gap * rng.uniform(0.5, 1.0))
        return moves

    def generate(self, contributions: list[Any]) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        kind_weights = [k[1] for k in KINDS]
        actor = ctx.it_user_id
        for _ in range(ctx.devices):
            device_id = self.device_sink.take_id()
            kind, _share, models_, media_kinds = rng.choices(KINDS, kind_weights)[0]
            manufacturer, model_name, price = rng.choice(models_)
            contract_id, funding, signed = rng.choice(self.contracts)
            purchase = min(signed + timedelta(days=rng.randrange(0, 60)), ctx.today - timedelta(days=30))
            status = rng.choices(statuses, weights)[0]
            registered = datetime.combine(purchase, datetime.min.time(), UTC) + timedelta(hours=rng.randrange(8, 16))
            moves = self.moves_for(status, registered)
            number = f"DS/{purchase.year}/{device_id:07d}"
            plan = DevicePlan(device_id, number, kind, contract_id, funding, purchase, status, moves)
            last_at = moves[-1][1]
            self.device_sink.add((
                device_id, number, kind, manufacturer, model_name, f"SN{device_id:010d}", purchase, Decimal(price),
                contract_id, purchase + timedelta(days=730), rng.choice(LOCATIONS).format(n=device_id % 300 + 1),
                status, last_at, "end_of_life" if S.RETIRED in (m[0] for m in moves) else "", registered, last_at,
            ))
            if media_kinds:
                medium_kind, capacity = rng.choice(media_kinds)
                medium_id = self.media_sink.take_id()
                self.media_sink.add((medium_id, device_id, medium_kind, manufacturer, f"M{medium_id:011d}", capacity,
                                     registered, registered))
                plan.media.append((medium_id, medium_kind))
            previous = ""
            for to_status, at in moves:
                self.event_sink.add((self.event_sink.take_id(), device_id, at, actor, previous, to_status,
                                     "rejestracja" if not previous else MOVE_REASONS[to_status]))
                previous = to_status
            for contribution in contributions:
                contribution.on_device(plan)


def orphan_events() -> int:
    """Device events whose device does not exist (none, when the data set is coherent)."""
    return DeviceEvent.objects.exclude(device_id__in=Device.objects.values("id")).count()


def baseline_event_rate(*, rows: int, batch_size: int) -> float:
    """Rows per second of a plain bulk_create of bare event rows, rolled back: the floor to compare with."""
    from django.db import transaction

    device_id = Device.objects.values_list("id", flat=True).first()
    at = datetime.now(UTC)
    started = time.monotonic()
    with transaction.atomic():
        sid = transaction.savepoint()
        DeviceEvent.objects.bulk_create(
            (DeviceEvent(device_id=device_id, occurred_at=at, to_status=S.IN_STOCK) for _ in range(rows)),
            batch_size=batch_size)
        elapsed = time.monotonic() - started
        transaction.savepoint_rollback(sid)
    return rows / elapsed if elapsed else 0.0


def contributions_of(modules: Iterable[Any], ctx: DatasetContext) -> list[Any]:
    return [module.Contribution(ctx) for module in modules]


__all__ = ["BulkWriter", "TableSink", "DevicePlan", "DatasetContext", "RegisterGenerator", "ensure_actors",
           "ensure_pdf", "document_code", "valid_nip", "orphan_events", "baseline_event_rate", "contributions_of"]
