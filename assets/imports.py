"""Imports into the register: devices with their storage media (at scale), suppliers and contracts.

Devices are checked and written a chunk of rows at a time: each column's cells through the model
field's own checks (remembered per distinct cell, since an inventory repeats its kinds, makers, dates
and prices), the rules between fields through `Device.rule_errors` and `device_change_refusal`, and
what needs the database (the inventory number, the serial number per manufacturer, the media's serial
numbers, the contract, the vendor, the kit) in a few queries per chunk. The valid rows are written with
`core.bulk.BulkWriter`: the devices, their history, a registration event pointing at the import, the
media and theirs. A row that names an existing inventory number updates that device, and only with the
columns the file has; a row that changes nothing is left alone, so importing the same file twice, or
the register's own export, changes nothing.

Suppliers and contracts are few: their rows go through the register's services one by one.
"""
from __future__ import annotations

import re
from operator import itemgetter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.pl import nip as stdnum_nip

from assets import services
from assets.choices import DeviceKind, DeviceStatus, FundingSource, ManagedBy, MediumKind
from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from assets.resources import MEDIA_SEPARATOR
from core.audit import change_reason
from core.bulk import BulkWriter, fetch_in, table
from core.choices import RowAction
from core.exceptions import DomainError
from core.imports import ImportContext, Importer, Issue, RowResult
from core.tabular import ColumnMap, Row, normalize_header, parse_date, parse_decimal, parse_int

__all__ = ["ChoiceCells", "ContractImporter", "DeviceImporter", "FieldCells", "ServiceImporter", "SnipeItAssetImporter",
           "SupplierImporter", "as_text", "field_cells", "parse_media"]


# -- cells ------------------------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A cell as text: XLSX gives numbers and dates for cells a person reads as text (12345, not 12345.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def _messages(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class ChoiceCells:
    """A choice from a cell: its stored value (``laptop``) or its label in Polish or English (``Laptop``)."""

    def __init__(self, choices: type[models.TextChoices], extra: dict[str, str] | None = None) -> None:
        self.choices = choices
        self.extra = extra or {}
        self._names: dict[str, str] | None = None

    def names(self) -> dict[str, str]:
        if self._names is None:
            names: dict[str, str] = {}
            for value, label in self.choices.choices:
                names[normalize_header(value)] = value
                for language in ("pl", "en"):
                    with translation.override(language):
                        names.setdefault(normalize_header(str(label)), value)
            for name, value in self.extra.items():
                names.setdefault(normalize_header(name), value)
            self._names = names
        return self._names

    def __call__(self, value: Any) -> str:
        text = as_text(value)
        if not text:
            return ""
        found = self.names().get(normalize_header(text))
        if found is None:
            raise ValueError(_("not one of: %(values)s") % {"values": ", ".join(self.choices.values)})
        return found


class FieldCells:
    """A column's cells as one model field's values: parsed, then checked by the field itself.

    Results are remembered per distinct cell, up to a bound, so that a column of a few kinds, makers or
    dates costs a dictionary lookup per row.
    """

    LIMIT = 20_000

    def __init__(self, field: models.Field, parse: Callable[[Any], Any]) -> None:
        self.field = field
        self.parse = parse
        self.seen: dict[Any, tuple[Any, str | None]] = {}

    def __call__(self, raw: Any) -> Any:
        try:
            result = self.seen[raw]
        except (KeyError, TypeError):
            result = self._convert(raw)
            if len(self.seen) < self.LIMIT:
                try:
                    self.seen[raw] = result
                except TypeError:
                    pass
        value, error = result
        if error is not None:
            raise ValueError(error)
        return value

    def _convert(self, raw: Any) -> tuple[Any, str | None]:
        try:
            value = self.parse(raw)
        except ValueError as error:
            return None, str(error)
        if value is None and isinstance(self.field, models.BooleanField):
            return None, None  # an empty yes/no cell says nothing; the import decides (see parse_bool)
        if value is None and not self.field.null:
            value = "" if isinstance(self.field, (models.CharField, models.TextField)) else None
        try:
            return self.field.clean(value, None), None
        except ValidationError as error:
            return None, _messages(error)


def field_cells(model: type[models.Model], name: str, parse: Callable[[Any], Any] | None = None) -> FieldCells:
    field = model._meta.get_field(name)
    if parse is None:
        if isinstance(field, models.DateField):
            parse = parse_date
        elif isinstance(field, models.DecimalField):
            parse = parse_decimal
        elif isinstance(field, (models.IntegerField, models.PositiveSmallIntegerField)):
            parse = parse_int
        else:
            parse = as_text
    return FieldCells(field, parse)


# -- the media cell ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediumEntry:
    kind: str
    capacity_gb: int
    serial_number: str


_MEDIA_SPLIT = re.compile(r"(?<!\\)\|")
_MEDIUM_KINDS = ChoiceCells(MediumKind, {"ssd sata": MediumKind.SSD, "sd": MediumKind.FLASH_CARD})


# (kind, capacity) as written -> as stored: a register's media come in a handful of kinds and sizes.
_KIND_CAPACITY: dict[tuple[str, str], tuple[str, int]] = {}


def _kind_and_capacity(kind_text: str, capacity_text: str, part: str) -> tuple[str, int]:
    known = _KIND_CAPACITY.get((kind_text, capacity_text))
    if known is not None:
        return known
    kind = _MEDIUM_KINDS(kind_text)
    if not kind:
        raise ValueError(_("“%(entry)s” has no kind") % {"entry": part})
    try:
        capacity = parse_int(capacity_text.strip().removesuffix("GB").removesuffix("gb"))
    except ValueError:
        capacity = None
    if capacity is None or capacity < 1:
        raise ValueError(_("“%(entry)s” needs a capacity in GB of at least 1") % {"entry": part})
    if len(_KIND_CAPACITY) < 1000:
        _KIND_CAPACITY[(kind_text, capacity_text)] = (kind, capacity)
    return kind, capacity


def parse_media(value: Any) -> list[MediumEntry]:
    """The media cell of the register's export (see assets.resources.format_media): ``hdd:500:WD-123|ssd:256:``."""
    text = as_text(value)
    if not text:
        return []
    entries = []
    max_length = StorageMedium._meta.get_field("serial_number").max_length
    for part in (text.split(MEDIA_SEPARATOR) if "\\" not in text else _MEDIA_SPLIT.split(text)):
        part = part.strip()
        if not part:
            continue
        pieces = part.split(":", 2)
        if len(pieces) < 2:
            raise ValueError(_("“%(entry)s” is not kind:capacity_gb:serial_number") % {"entry": part})
        kind, capacity = _kind_and_capacity(pieces[0], pieces[1], part)
        serial = pieces[2].strip() if len(pieces) == 3 else ""
        if "\\" in serial:
            serial = serial.replace("\\|", "|").replace("\\\\", "\\")
        if len(serial) > max_length:
            raise ValueError(_("“%(entry)s” has a serial number that is too long") % {"entry": part})
        entries.append(MediumEntry(kind, capacity, serial))
    return entries


# -- devices ------------------------------------------------------------------------------------------------

DEVICE_COLUMNS = ColumnMap({
    "inventory_number": ["numer inwentarzowy", "nr inwentarzowy", "nr inw", "numer inw", "inventory number"],
    "kind": ["rodzaj", "typ", "rodzaj sprzętu", "kind", "type"],
    "manufacturer": ["producent", "marka", "manufacturer"],
    "model": ["model urządzenia"],
    "serial_number": ["numer seryjny", "nr seryjny", "serial number", "s/n", "sn"],
    "purchase_date": ["data zakupu", "data nabycia", "purchase date"],
    "purchase_price": ["cena zakupu", "cena", "wartość", "wartość początkowa", "cena brutto", "purchase price"],
    "contract": ["umowa", "numer umowy", "nr umowy", "contract number"],
    "supplier": ["dostawca", "NIP dostawcy"],
    "funding_source": ["źródło finansowania", "funding source"],
    "warranty_ends_on": ["gwarancja do", "koniec gwarancji", "warranty ends on"],
    "location": ["lokalizacja", "miejsce", "miejsce użytkowania"],
    "managed_by": ["zarządzany przez", "managed by"],
    "managing_vendor": ["serwisant", "NIP serwisanta", "managing vendor"],
    "expected_life_years": ["okres użytkowania", "okres użytkowania (lata)", "expected life"],
    "kit": ["zestaw", "kod zestawu"],
    "notes": ["uwagi", "notatki", "opis"],
    "media": ["nośniki", "nośniki danych", "dyski", "storage media"],
    "status": ["stan"],
}, required=("inventory_number",))

# Fields a new device cannot do without, and the defaults of those it can.
REQUIRED_TO_REGISTER = ("kind", "manufacturer", "model", "purchase_date", "purchase_price")
TEXT_FIELDS = ("inventory_number", "manufacturer", "model", "serial_number", "location", "notes")
# Every device field the import may set (by attname), in the order of the table.
DEVICE_ATTNAMES = ("inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                   "purchase_price", "contract_id", "warranty_ends_on", "funding_source", "location", "managed_by",
                   "managing_vendor_id", "expected_life_years", "kit_id", "notes")
_ATTNAME_FIELD = {"contract_id": "contract", "managing_vendor_id": "managing_vendor", "kit_id": "kit"}


class DeviceImporter(Importer):
    """Devices with their storage media, one row each, created or updated by inventory number."""

    key = "devices"
    label = gettext_lazy("devices with their storage media")
    columns = DEVICE_COLUMNS
    ignored = {"status": gettext_lazy("a device's status changes only through its lifecycle (loans, repairs, "
                                      "retirement…), never by an import")}
    permissions = ("assets.add_device", "assets.change_device", "assets.add_storagemedium")
    view_permission = "assets.view_device"
    chunk_size = 2000

    def make_cells(self) -> dict[str, FieldCells]:
        """How each column's cells become field values, for one run."""
        cells = {
            "kind": FieldCells(Device._meta.get_field("kind"), ChoiceCells(DeviceKind)),
            "managed_by": FieldCells(Device._meta.get_field("managed_by"), ChoiceCells(ManagedBy)),
            "funding_source": FieldCells(Device._meta.get_field("funding_source"), ChoiceCells(FundingSource)),
        }
        for name in ("inventory_number", "manufacturer", "model", "serial_number", "purchase_date",
                     "purchase_price", "warranty_ends_on", "location", "expected_life_years", "notes"):
            cells[name] = field_cells(Device, name)
        return cells

    # -- hooks for other column maps (Snipe-IT) --

    def derive(self, values: dict[str, Any], row: Row, ctx: ImportContext, issues: list[Issue]) -> None:
        """Fill fields computed from other columns; the base import has none."""

    # -- the chunk --

    def process(self, rows: list[Row], ctx: ImportContext) -> list[RowResult]:
        present = set(ctx.mapping)
        state = _Chunk(self, rows, ctx)
        state.read_keys()
        state.convert(present)
        state.resolve_references(present)
        state.plan()
        state.check_serials()
        state.check_media()
        state.write()
        return state.results


class _Chunk:
    """One chunk of device rows on its way from cells to the database."""

    def __init__(self, importer: DeviceImporter, rows: list[Row], ctx: ImportContext) -> None:
        self.importer = importer
        self.rows = rows
        self.ctx = ctx
        self.cache: dict[str, dict] = ctx.cache
        for name in ("contracts", "suppliers", "kits"):
            self.cache.setdefault(name, {})
        if "cells" not in self.cache:
            self.cache["cells"] = importer.make_cells()
        self.cells: dict[str, FieldCells] = self.cache["cells"]
        self.results = [RowResult(row.number, None, RowAction.INVALID) for row in rows]
        self.keys: list[str | None] = [None] * len(rows)
        self.values: list[dict[str, Any]] = [{} for _ in rows]
        self.media: list[list[MediumEntry] | None] = [None] * len(rows)
        self.refs: list[dict[str, Any]] = [{} for _ in rows]
        self.existing: dict[str, dict[str, Any]] = {}
        self.signed_on: dict[int, date] = {}
        self.merged: list[dict[str, Any] | None] = [None] * len(rows)
        self.new_media: list[list[MediumEntry]] = [[] for _ in rows]

    def fail(self, index: int, name: str, value: Any, reason: str) -> None:
        self.results[index].issues.append(self.ctx.issue(self.rows[index], name, value, reason))

    def ok(self, index: int) -> bool:
        return not self.results[index].issues

    # 1. the inventory numbers: required, once in the file, existing or new
    def read_keys(self) -> None:
        cells = self.cells["inventory_number"]
        first: dict[str, int] = {}
        for index, row in enumerate(self.rows):
            raw = row.values.get("inventory_number")
            try:
                key = cells(raw)
            except ValueError as error:
                self.fail(index, "inventory_number", raw, str(error))
                continue
            if key in first:
                self.fail(index, "inventory_number", key,
                          _("the inventory number is already in row %(row)s of this file") % {"row": first[key]})
                continue
            first[key] = row.number
            self.keys[index] = key
        earlier = self.ctx.earlier_rows(first)
        for index, key in enumerate(self.keys):
            if key is not None and key in earlier:
                self.fail(index, "inventory_number", key,
                          _("the inventory number is already in row %(row)s of this file") % {"row": earlier[key]})
                self.keys[index] = None
        for index, key in enumerate(self.keys):
            self.results[index].key = key
        # Which keys exist, by a plain lookup; then those devices in full (typed, locked) by their ids.
        ids = [pk for _number, pk in _ids_by_number([key for key in self.keys if key is not None]).items()]
        fields = ("id", "status", "created_at", "updated_at", "status_changed_at", "retirement_reason") + DEVICE_ATTNAMES
        for start in range(0, len(ids), 900):
            for values in (Device.objects.select_for_update().filter(id__in=ids[start:start + 900])
                           .order_by().values(*fields)):
                self.existing[values["inventory_number"]] = values

    # 2. every other cell, through its field
    def convert(self, present: set[str]) -> None:
        active = [(name, convert, convert.seen) for name, convert in self.cells.items()
                  if name != "inventory_number" and name in present]
        for index, row in enumerate(self.rows):
            if self.keys[index] is None:
                continue
            values = self.values[index]
            issues: list[Issue] = []
            cells = row.values
            for name, convert, seen in active:
                raw = cells.get(name)
                known = seen.get(raw)  # the cell converted before (cells are str, numbers, dates: hashable)
                if known is not None and known[1] is None:
                    values[name] = known[0]
                    continue
                try:
                    values[name] = convert(raw)
                except ValueError as error:
                    issues.append(self.ctx.issue(row, name, raw, str(error)))
            if "media" in present:
                try:
                    self.media[index] = parse_media(row.values.get("media"))
                except ValueError as error:
                    issues.append(self.ctx.issue(row, "media", row.values.get("media"), str(error)))
            for name in ("contract", "supplier", "managing_vendor", "kit"):
                if name in present:
                    self.refs[index][name] = as_text(row.values.get(name))
            self.importer.derive(values, row, self.ctx, issues)
            self.results[index].issues.extend(issues)

    # 3. contracts, vendors and kits by their natural keys
    def resolve_references(self, present: set[str]) -> None:
        suppliers = self.cache["suppliers"]
        names = {ref[name] for ref in self.refs for name in ("supplier", "managing_vendor") if ref.get(name)}
        _load_suppliers(names - suppliers.keys(), suppliers)
        numbers = {ref["contract"] for ref in self.refs if ref.get("contract")}
        contracts = self.cache["contracts"]
        missing = numbers - contracts.keys()
        if missing:
            for number, supplier_id, pk, signed_on in (Contract.objects.filter(number__in=missing)
                                                       .values_list("number", "supplier_id", "id", "signed_on")):
                contracts.setdefault(number, []).append((supplier_id, pk, signed_on))
            for number in missing:
                contracts.setdefault(number, [])
        kits = self.cache["kits"]
        codes = {ref["kit"] for ref in self.refs if ref.get("kit")} - kits.keys()
        if codes:
            kits.update(Kit.objects.filter(code__in=codes).values_list("code", "id"))
            for code in codes:
                kits.setdefault(code, None)
        for index, ref in enumerate(self.refs):
            if self.keys[index] is None:
                continue
            values = self.values[index]
            supplier_id = None
            if ref.get("supplier") and ref.get("contract"):  # the supplier only tells contracts apart
                supplier_id = self._supplier(index, "supplier", ref["supplier"])
            if "contract" in ref:
                values["contract_id"] = self._contract(index, ref["contract"], ref.get("supplier"), supplier_id)
            if "managing_vendor" in ref:
                values["managing_vendor_id"] = (self._supplier(index, "managing_vendor", ref["managing_vendor"])
                                                if ref["managing_vendor"] else None)
            if "kit" in ref:
                code = ref["kit"]
                values["kit_id"] = kits.get(code) if code else None
                if code and values["kit_id"] is None:
                    self.fail(index, "kit", code, _("no kit has this code"))

    def _supplier(self, index: int, name: str, ref: str) -> int | None:
        found = self.cache["suppliers"].get(ref)
        if isinstance(found, int):
            return found
        reason = (_("several suppliers have this name; give the NIP") if found == "ambiguous"
                  else _("no supplier with this NIP or name is registered"))
        self.fail(index, name, ref, reason)
        return None

    def _contract(self, index: int, number: str, supplier: str | None, supplier_id: int | None) -> int | None:
        if not number:
            return None
        candidates = self.cache["contracts"].get(number, [])
        if supplier_id is not None:
            candidates = [c for c in candidates if c[0] == supplier_id]
        elif supplier:
            return None  # the supplier itself is already reported
        if not candidates:
            self.fail(index, "contract", number, _("no contract with this number is registered")
                      if supplier_id is None else _("this supplier has no contract with this number"))
            return None
        if len(candidates) > 1:
            self.fail(index, "contract", number,
                      _("contracts of several suppliers have this number; add the supplier's NIP in a column"))
            return None
        _supplier_id, pk, signed_on = candidates[0]
        self.signed_on[pk] = signed_on
        return pk

    # 4. create, update or leave alone; the rules between fields
    def plan(self) -> None:
        ctx = self.ctx
        present = set(ctx.mapping)
        # An existing device's own contract, for the rule on its purchase date when the file leaves the
        # contract out.
        kept = {self.existing[key]["contract_id"] for key in self.keys
                if key in self.existing and self.existing[key]["contract_id"]} - self.signed_on.keys()
        if kept:
            self.signed_on.update(Contract.objects.filter(id__in=kept).values_list("id", "signed_on"))
        for index, key in enumerate(self.keys):
            if key is None:
                continue
            values = self.values[index]
            existing = self.existing.get(key)
            result = self.results[index]
            if existing is not None and ctx.only_new:
                result.issues.append(ctx.already_registered(self.rows[index], "inventory_number", key,
                                                            f"{key} — {existing['manufacturer']} {existing['model']}"))
                continue
            if existing is None:
                for name in REQUIRED_TO_REGISTER:
                    if name not in values and name not in present:
                        self.fail(index, name, "", _("the file has no such column, and a new device needs it"))
                    elif values.get(name) in (None, "") and not any(i.column == ctx.column(name) for i in result.issues):
                        self.fail(index, name, "", _("a new device needs this"))
                merged = {"inventory_number": key, "funding_source": "", "location": "", "serial_number": "",
                          "managed_by": ManagedBy.IT_OFFICE, "expected_life_years": 10, "notes": "",
                          "contract_id": None, "managing_vendor_id": None, "kit_id": None, "warranty_ends_on": None,
                          **values}
                self.new_media[index] = list(self.media[index] or [])
            else:
                merged = {**existing, **values}
                result.changed = tuple(_ATTNAME_FIELD.get(name, name) for name in DEVICE_ATTNAMES
                                       if name in values and values[name] != existing[name])
            if not self.ok(index):
                continue
            errors = Device.rule_errors(merged, contract_signed_on=self.signed_on.get(merged.get("contract_id")))
            for name, message in errors.items():
                self.fail(index, name, self.rows[index].values.get(name), str(message))
            if existing is not None and result.changed:
                refusal = services.device_change_refusal(existing["status"], result.changed)
                if refusal:
                    self.fail(index, result.changed[0], self.rows[index].values.get(result.changed[0]), refusal)
            self.merged[index] = merged

    # 5. a serial number once per manufacturer, in the file and in the register
    def check_serials(self) -> None:
        pairs: dict[tuple[str, str], int] = {}
        for index, merged in enumerate(self.merged):
            if merged is None or not self.ok(index) or not merged.get("serial_number"):
                continue
            existing = self.existing.get(self.keys[index])
            if existing is not None and not ({"serial_number", "manufacturer"} & set(self.results[index].changed)):
                continue
            pair = (merged["manufacturer"].lower(), merged["serial_number"].lower())
            if pair in pairs:
                self.fail(index, "serial_number", merged["serial_number"],
                          _("another device of this manufacturer has this serial number, in row %(row)s")
                          % {"row": self.rows[pairs[pair]].number})
                continue
            pairs[pair] = index
        if not pairs:
            return
        # The unique index's expressions and its condition as written in it, so that PostgreSQL uses it;
        # each value as written too, since SQLite's LOWER() (and so its index) leaves Ł and Ś as they are.
        makers = sorted({name for (maker, _serial), index in pairs.items()
                         for name in (maker, self.merged[index]["manufacturer"])})
        serials = sorted({name for (_maker, serial), index in pairs.items()
                          for name in (serial, self.merged[index]["serial_number"])})
        sql = f"SELECT inventory_number, manufacturer, serial_number FROM {table(Device)} WHERE NOT (serial_number = '')"
        if len(makers) <= 300:
            sql += f" AND LOWER(manufacturer) IN ({', '.join(['%s'] * len(makers))})"
        else:  # a file of many makers: the serial numbers alone narrow it enough
            makers = []
        clashes = fetch_in(f"{sql} AND LOWER(serial_number) IN ({{values}})", serials, before=makers)
        for number, maker, serial in clashes:
            index = pairs.get((maker.lower(), serial.lower()))
            if index is None or self.keys[index] == number:
                continue
            self.fail(index, "serial_number", self.merged[index]["serial_number"],
                      _("another device of this manufacturer has this serial number: %(number)s") % {"number": number})

    # 6. media: new ones are added; those already in the device are matched; none is taken away
    def check_media(self) -> None:
        updated = {self.existing[key]["id"]: index for index, key in enumerate(self.keys)
                   if key in self.existing and self.media[index] and self.ok(index)}
        inside: dict[int, list[dict]] = {}
        if updated:
            ids = list(updated)
            for start in range(0, len(ids), 900):
                for medium in (StorageMedium.objects.inside().filter(device_id__in=ids[start:start + 900]).order_by("id")
                               .values("device_id", "kind", "capacity_gb", "serial_number")):
                    inside.setdefault(medium["device_id"], []).append(medium)
        for device_id, index in updated.items():
            known = list(inside.get(device_id, []))
            new = []
            for entry in self.media[index]:
                match = next((m for m in known if (m["serial_number"] == entry.serial_number if entry.serial_number
                              else not m["serial_number"] and m["kind"] == entry.kind
                              and m["capacity_gb"] == entry.capacity_gb)), None)
                if match is None:
                    new.append(entry)
                    continue
                known.remove(match)
                if (match["kind"], match["capacity_gb"]) != (entry.kind, entry.capacity_gb):
                    self.fail(index, "media", entry.serial_number,
                              _("this medium is recorded as %(kind)s %(capacity)s GB; correct it on the device's card")
                              % {"kind": match["kind"], "capacity": match["capacity_gb"]})
            if new:
                refusal = services.device_change_refusal(self.existing[self.keys[index]]["status"], ["media"])
                if refusal:
                    self.fail(index, "media", self.rows[index].values.get("media"), refusal)
                self.new_media[index] = new
                self.results[index].changed += ("media",)
        serials: dict[str, int] = {}
        for index, entries in enumerate(self.new_media):
            if not entries or not self.ok(index):
                continue
            for entry in entries:
                if not entry.serial_number:
                    continue
                if entry.serial_number in serials:
                    self.fail(index, "media", entry.serial_number,
                              _("a storage medium with this serial number is already in row %(row)s")
                              % {"row": self.rows[serials[entry.serial_number]].number})
                else:
                    serials[entry.serial_number] = index
        wanted = list(serials)
        for start in range(0, len(wanted), 900):
            # The unique index is partial (serial_number <> ''): its condition, written out, lets PostgreSQL
            # use it for a list longer than the hundred values its planner would check against the condition.
            for serial, number in fetch_in(
                    f"SELECT m.serial_number, d.inventory_number FROM {table(StorageMedium)} m "
                    f"JOIN {table(Device)} d ON d.id = m.device_id "
                    f"WHERE NOT (m.serial_number = '') AND m.serial_number IN ({{values}})", wanted[start:start + 900]):
                self.fail(serials[serial], "media", serial,
                          _("a storage medium with this serial number is already registered, in %(number)s")
                          % {"number": number})

    # 7. the writes
    def write(self) -> None:
        ctx = self.ctx
        creates: list[int] = []
        updates: list[int] = []
        for index, result in enumerate(self.results):
            if result.issues or self.merged[index] is None:
                result.action = RowAction.INVALID
                if self.keys[index] is None:
                    result.key = None
            elif self.keys[index] not in self.existing:
                result.action = RowAction.CREATE
                creates.append(index)
            elif result.changed:
                result.action = RowAction.UPDATE
                updates.append(index)
            else:
                result.action = RowAction.UNCHANGED
        device_writer = BulkWriter(Device)
        now = ctx.now
        reasons = {index: ctx.reason(self.rows[index].number) for index in creates + updates}
        user_id = ctx.user_id
        if creates:
            rows = []
            fresh = {"status": DeviceStatus.IN_STOCK, "status_changed_at": now, "retirement_reason": "",
                     "created_at": now, "updated_at": now}
            pick = itemgetter(*DEVICE_ATTNAMES)
            for index in creates:
                rows.append({**dict(zip(DEVICE_ATTNAMES, pick(self.merged[index]))), **fresh})
            written = device_writer.insert(rows)
            ids = _ids_by_number([row["inventory_number"] for row in rows])
            for row in rows:
                row["id"] = ids[row["inventory_number"]]
            device_writer.write_history_of_inserted(written, [row["id"] for row in rows], user_id=user_id,
                                                    reasons=[reasons[i] for i in creates])
            reason = _("registered by import #%(id)s") % {"id": ctx.batch.pk} + ", " + _("row") + " "
            event = {"occurred_at": now, "actor_id": user_id, "from_status": "", "to_status": DeviceStatus.IN_STOCK,
                     "reference": "", "document_id": None, "request_id": "", "import_batch_id": ctx.batch.pk}
            BulkWriter(DeviceEvent).insert([{**event, "device_id": row["id"], "reason": f"{reason}{self.rows[i].number}"}
                                         for row, i in zip(rows, creates)])
            for row, index in zip(rows, creates):
                self.merged[index]["id"] = row["id"]
        if updates:
            changed = [name for name in DEVICE_ATTNAMES if any(
                _ATTNAME_FIELD.get(name, name) in self.results[i].changed for i in updates)]
            rows = [dict(self.merged[index], updated_at=now) for index in updates]
            if changed:
                device_writer.update([row for row, i in zip(rows, updates)
                                      if set(self.results[i].changed) - {"media"}], changed)
            device_writer.write_history(
                [row for row, i in zip(rows, updates) if set(self.results[i].changed) - {"media"}],
                history_type="~", user_id=user_id,
                reasons=[reasons[i] for i in updates if set(self.results[i].changed) - {"media"}])
        media_rows = []
        media_reasons = []
        for index in creates + updates:
            for entry in self.new_media[index]:
                media_rows.append({"device_id": self.merged[index]["id"], "kind": entry.kind, "manufacturer": "",
                                   "model": "", "serial_number": entry.serial_number, "capacity_gb": entry.capacity_gb,
                                   "may_hold_personal_data": True, "notes": "", "removed_at": None,
                                   "created_at": now, "updated_at": now})
                media_reasons.append(reasons[index])
        if media_rows:
            medium_writer = BulkWriter(StorageMedium)
            last = StorageMedium.objects.order_by("-id").values_list("id", flat=True).first() or 0
            written = medium_writer.insert(media_rows)
            device_ids = sorted({row["device_id"] for row in media_rows})
            found = fetch_in(f"SELECT id, device_id, kind, capacity_gb, serial_number FROM {table(StorageMedium)} "
                               f"WHERE id > %s AND device_id IN ({{values}})", device_ids, before=[last])
            # Each new medium's id, matched by what it is (two media of a device alike in kind, size and an
            # empty serial number are interchangeable for their history rows).
            waiting: dict[tuple, list[dict]] = {}
            for row in media_rows:
                key = (row["device_id"], row["kind"], row["capacity_gb"], row["serial_number"])
                waiting.setdefault(key, []).append(row)
            for pk, device_id, kind, capacity, serial in sorted(found):
                rows_alike = waiting.get((device_id, kind, capacity, serial))
                if rows_alike:
                    rows_alike.pop(0)["id"] = pk
            if any(waiting.values()):
                raise RuntimeError("The storage media written by the import could not be read back.")
            medium_writer.write_history_of_inserted(written, [row["id"] for row in media_rows], user_id=user_id,
                                                    reasons=media_reasons)


def _ids_by_number(numbers: list[str]) -> dict[str, int]:
    return dict(fetch_in(f"SELECT inventory_number, id FROM {table(Device)} WHERE inventory_number IN ({{values}})",
                         numbers))


def _load_suppliers(refs: Iterable[str], cache: dict[str, Any]) -> None:
    """Suppliers by NIP (in any notation) or, failing that, by their name in any case.

    An office has tens or hundreds of suppliers: they are read once per run and compared in Python, since
    SQLite's LOWER() leaves Ł, Ś, Ż as they are.
    """
    refs = [ref for ref in refs if ref not in cache]
    if not refs:
        return
    if "_all" not in cache:
        by_nip: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        for pk, nip, name in Supplier.objects.values_list("id", "nip", "name"):
            by_nip[nip] = pk
            by_name.setdefault(" ".join(name.casefold().split()), []).append(pk)
        cache["_all"] = (by_nip, by_name)
    by_nip, by_name = cache["_all"]
    for ref in refs:
        compact = stdnum_nip.compact(ref) if any(c.isdigit() for c in ref) else ""
        if compact.isdigit() and len(compact) == 10 and compact in by_nip:
            cache[ref] = by_nip[compact]
            continue
        ids = by_name.get(" ".join(ref.casefold().split()), [])
        cache[ref] = ids[0] if len(ids) == 1 else ("ambiguous" if ids else None)


# -- Snipe-IT -----------------------------------------------------------------------------------------------

SNIPEIT_COLUMNS = ColumnMap({
    "inventory_number": ["Asset Tag"],
    "kind": ["Category"],
    "manufacturer": ["Manufacturer"],
    "model": ["Model"],
    "serial_number": ["Serial"],
    "purchase_date": ["Purchase Date"],
    "purchase_price": ["Purchase Cost"],
    "contract": ["Order Number"],
    "supplier": ["Supplier"],
    "warranty_months": ["Warranty", "Warranty Months"],
    "warranty_ends_on": ["Warranty Expires"],
    "location": ["Location"],
    "notes": ["Notes"],
    "status": ["Status"],
}, required=("inventory_number",))

# Snipe-IT's categories are the office's own words; these are the usual ones, in English and Polish.
SNIPEIT_CATEGORIES = {
    "laptop": DeviceKind.LAPTOP, "laptops": DeviceKind.LAPTOP, "notebook": DeviceKind.LAPTOP,
    "notebooks": DeviceKind.LAPTOP, "laptopy": DeviceKind.LAPTOP,
    "tablet": DeviceKind.TABLET, "tablets": DeviceKind.TABLET, "tablety": DeviceKind.TABLET,
    "desktop": DeviceKind.DESKTOP, "desktops": DeviceKind.DESKTOP, "pc": DeviceKind.DESKTOP,
    "komputer": DeviceKind.DESKTOP, "komputery": DeviceKind.DESKTOP, "komputery stacjonarne": DeviceKind.DESKTOP,
    "monitor": DeviceKind.MONITOR, "monitors": DeviceKind.MONITOR, "monitory": DeviceKind.MONITOR,
    "display": DeviceKind.MONITOR, "displays": DeviceKind.MONITOR,
    "router": DeviceKind.ROUTER, "routers": DeviceKind.ROUTER, "networking": DeviceKind.ROUTER,
    "routery": DeviceKind.ROUTER, "modem": DeviceKind.ROUTER,
    "phone": DeviceKind.PHONE, "phones": DeviceKind.PHONE, "mobile phones": DeviceKind.PHONE,
    "smartphone": DeviceKind.PHONE, "smartphones": DeviceKind.PHONE, "telefony": DeviceKind.PHONE,
}
_MONTHS = re.compile(r"^\s*(\d{1,3})\s*(?:months?|mies\w*|m)?\s*$", re.IGNORECASE)


def _add_months(day: date, months: int) -> date:
    import calendar

    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class SnipeItAssetImporter(DeviceImporter):
    """An asset export of Snipe-IT (Admin › Export, or the assets list's CSV), through a fixed column map.

    Asset Tag → inventory number; Category → kind (Laptops, Tablets, Desktops, Monitors, Networking,
    Phones; Polish names too); Manufacturer, Model, Serial; Purchase Date; Purchase Cost → purchase price;
    Order Number → the contract of that number (with the Supplier, by NIP or name, when several suppliers
    have one); Warranty (months) → warranty end from the purchase date, or Warranty Expires; Location;
    Notes. Status is not imported (a device's status changes only through its lifecycle); Company, Name,
    Model Number and any other column are listed in the preview as not kept.
    """

    key = "snipeit_assets"
    label = gettext_lazy("devices from a Snipe-IT asset export")
    columns = SNIPEIT_COLUMNS
    foreign_headers = True

    def make_cells(self) -> dict[str, FieldCells]:
        cells = super().make_cells()
        cells["kind"] = FieldCells(Device._meta.get_field("kind"), ChoiceCells(DeviceKind, SNIPEIT_CATEGORIES))
        return cells

    def derive(self, values: dict[str, Any], row: Row, ctx: ImportContext, issues: list[Issue]) -> None:
        raw = row.values.get("warranty_months")
        if raw in (None, "") or values.get("warranty_ends_on"):
            return
        match = _MONTHS.match(as_text(raw))
        if match is None:
            issues.append(ctx.issue(row, "warranty_months", raw, _("expected a number of months")))
        elif values.get("purchase_date"):
            values["warranty_ends_on"] = _add_months(values["purchase_date"], int(match[1]))


# -- suppliers and contracts, through the services --------------------------------------------------------


class ServiceImporter(Importer):
    """An import of a small table whose rows go through the register's services, one by one.

    Each row is created or updated in a savepoint of its own: a refused row leaves nothing behind and is
    reported with the service's reason on its column.
    """

    key_field: str
    fields: tuple[str, ...]
    chunk_size = 500

    def find(self, keys: list[str]) -> dict[str, models.Model]:
        raise NotImplementedError

    # Columns taken as text, and how the others' cells become values (made once per run: see FieldCells).
    text_fields: tuple[str, ...] = ()

    def make_cells(self) -> dict[str, FieldCells]:
        return {}

    def read_cells(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> dict[str, Any]:
        """The values of the columns the file has, by field; a cell that is no value is reported."""
        if "cells" not in ctx.cache:
            ctx.cache["cells"] = self.make_cells()
        data: dict[str, Any] = {name: as_text(row.values.get(name)) for name in self.text_fields if name in ctx.mapping}
        for name, convert in ctx.cache["cells"].items():
            if name in ctx.mapping:
                try:
                    data[name] = convert(row.values.get(name))
                except ValueError as error:
                    issues.append(ctx.issue(row, name, row.values.get(name), str(error)))
        return data

    def convert(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, data: dict[str, Any], ctx: ImportContext) -> None:
        raise NotImplementedError

    def update(self, instance: models.Model, data: dict[str, Any], ctx: ImportContext) -> None:
        raise NotImplementedError

    def current(self, instance: models.Model, name: str) -> Any:
        """The record's value of a field the file sets, to tell an update from a row that changes nothing."""
        return getattr(instance, name)

    def row_key(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> str | None:
        raw = row.values.get(self.key_field)
        key = as_text(raw)
        if not key:
            issues.append(ctx.issue(row, self.key_field, raw, _("this column cannot be empty")))
            return None
        return key

    def process(self, rows: list[Row], ctx: ImportContext) -> list[RowResult]:
        results: list[RowResult] = []
        keyed: list[tuple[Row, str | None, list[Issue]]] = []
        first: dict[str, int] = {}
        for row in rows:
            issues: list[Issue] = []
            key = self.row_key(row, ctx, issues)
            if key is not None and key in first:
                issues.append(ctx.issue(row, self.key_field, key,
                                        _("this is already in row %(row)s of this file") % {"row": first[key]}))
                key = None
            elif key is not None:
                first[key] = row.number
            keyed.append((row, key, issues))
        earlier = ctx.earlier_rows(first)
        existing = self.find(list(first))
        for row, key, issues in keyed:
            if key is not None and key in earlier:
                issues.append(ctx.issue(row, self.key_field, key,
                                        _("this is already in row %(row)s of this file") % {"row": earlier[key]}))
                key = None
            data = self.convert(row, ctx, issues) if not issues else {}
            result = RowResult(row.number, key, RowAction.INVALID, issues)
            results.append(result)
            if issues:
                continue
            instance = existing.get(key)
            if instance is not None and ctx.only_new:
                issues.append(ctx.already_registered(row, self.key_field, row.values.get(self.key_field), instance))
                continue
            if instance is not None:
                result.changed = tuple(name for name, value in data.items() if self.current(instance, name) != value)
                if not result.changed:
                    result.action = RowAction.UNCHANGED
                    continue
            try:
                with transaction.atomic(), change_reason(ctx.reason(row.number)):
                    if instance is None:
                        self.create(data, ctx)
                    else:
                        self.update(instance, {name: data[name] for name in result.changed}, ctx)
            except DomainError as error:
                issues.append(ctx.issue(row, error.field or self.key_field,
                                        row.values.get(error.field or self.key_field), error.message))
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    column = name if name in ctx.columns.fields else self.key_field
                    issues.append(ctx.issue(row, column, row.values.get(column), " ".join(messages)))
            else:
                result.action = RowAction.CREATE if instance is None else RowAction.UPDATE
        return results


SUPPLIER_COLUMNS = ColumnMap({
    "nip": ["NIP", "numer NIP", "tax id"],
    "name": ["nazwa", "nazwa dostawcy", "firma", "supplier", "dostawca"],
    "regon": ["REGON"],
    "address": ["adres", "siedziba"],
    "contact_person": ["osoba kontaktowa", "kontakt", "contact person"],
    "email": ["e-mail", "email", "adres e-mail"],
    "phone": ["telefon", "tel", "phone"],
    "notes": ["uwagi", "notes"],
}, required=("nip",))


class SupplierImporter(ServiceImporter):
    """Suppliers, created or updated by NIP."""

    key = "suppliers"
    label = gettext_lazy("suppliers")
    columns = SUPPLIER_COLUMNS
    key_field = "nip"
    permissions = ("assets.add_supplier", "assets.change_supplier")
    view_permission = "assets.view_supplier"

    def row_key(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> str | None:
        key = super().row_key(row, ctx, issues)
        if key is None:
            return None
        compact = stdnum_nip.compact(key)
        if not stdnum_nip.is_valid(compact):
            issues.append(ctx.issue(row, "nip", key, _("not a valid NIP (10 digits with a check digit)")))
            return None
        return compact

    def find(self, keys: list[str]) -> dict[str, Supplier]:
        return {s.nip: s for s in Supplier.objects.filter(nip__in=keys)}

    text_fields = ("name", "regon", "address", "contact_person", "email", "phone", "notes")

    def convert(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> dict[str, Any]:
        data = {"nip": stdnum_nip.compact(as_text(row.values.get("nip"))), **self.read_cells(row, ctx, issues)}
        if data.get("regon"):
            data["regon"] = data["regon"].replace("-", "").replace(" ", "")
        return data

    def create(self, data: dict[str, Any], ctx: ImportContext) -> None:
        services.supplier_create(by=ctx.by, **data)

    def update(self, instance: Supplier, data: dict[str, Any], ctx: ImportContext) -> None:
        services.supplier_update(supplier=instance, by=ctx.by, **data)


CONTRACT_COLUMNS = ColumnMap({
    "number": ["numer umowy", "nr umowy", "umowa", "contract number"],
    "supplier": ["dostawca", "NIP dostawcy", "supplier NIP"],
    "signed_on": ["data zawarcia", "data podpisania", "zawarta dnia", "signed on"],
    "subject": ["przedmiot", "przedmiot umowy"],
    "value": ["wartość", "wartość umowy", "kwota", "value"],
    "funding_source": ["źródło finansowania", "funding source"],
    "funding_details": ["szczegóły finansowania", "program", "funding details"],
    "procurement_basis": ["podstawa prawna", "tryb zamówienia", "procurement basis"],
    "notes": ["uwagi", "notes"],
}, required=("number", "supplier"))


class ContractImporter(ServiceImporter):
    """Contracts, created or updated by their number together with the supplier's NIP."""

    key = "contracts"
    label = gettext_lazy("contracts")
    columns = CONTRACT_COLUMNS
    key_field = "number"
    permissions = ("assets.add_contract", "assets.change_contract")
    view_permission = "assets.view_contract"

    text_fields = ("subject", "funding_details", "procurement_basis", "notes")

    def make_cells(self) -> dict[str, FieldCells]:
        return {"signed_on": field_cells(Contract, "signed_on"), "value": field_cells(Contract, "value"),
                "funding_source": FieldCells(Contract._meta.get_field("funding_source"), ChoiceCells(FundingSource))}

    def row_key(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> str | None:
        number = super().row_key(row, ctx, issues)
        supplier = as_text(row.values.get("supplier"))
        if not supplier:
            issues.append(ctx.issue(row, "supplier", "", _("this column cannot be empty")))
            return None
        if number is None:
            return None
        return f"{stdnum_nip.compact(supplier)}/{number}"

    def find(self, keys: list[str]) -> dict[str, Contract]:
        numbers = [key.split("/", 1)[1] for key in keys]
        return {f"{c.supplier.nip}/{c.number}": c
                for c in Contract.objects.filter(number__in=numbers).select_related("supplier")}

    def convert(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> dict[str, Any]:
        cache = ctx.cache.setdefault("suppliers", {})
        ref = as_text(row.values.get("supplier"))
        _load_suppliers([ref] if ref not in cache else [], cache)
        supplier_id = cache.get(ref)
        if not isinstance(supplier_id, int):
            issues.append(ctx.issue(row, "supplier", ref, _("no supplier with this NIP or name is registered")))
            return {}
        return {"number": as_text(row.values.get("number")), "supplier": Supplier(pk=supplier_id),
                **self.read_cells(row, ctx, issues)}

    def create(self, data: dict[str, Any], ctx: ImportContext) -> None:
        data = dict(data, supplier=Supplier.objects.get(pk=data["supplier"].pk))
        services.contract_create(by=ctx.by, **data)

    def update(self, instance: Contract, data: dict[str, Any], ctx: ImportContext) -> None:
        services.contract_update(contract=instance, by=ctx.by, **data)
