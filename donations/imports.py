"""Imports of the donations app: a project's list of beneficiaries, and orders' annexes, through its services.

A beneficiary is known by its project's grant agreement number together with its code (EI/GD/001);
a row with a known pair updates that beneficiary, with only the columns the file has. The file carries
what is needed to hand over and reach them (see donations.resources.BeneficiaryResource), never a PESEL.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.imports import ChoiceCells, FieldCells, ServiceImporter, as_text, field_cells
from assets.models import Device
from core.audit import change_reason
from core.choices import RowAction
from core.exceptions import DomainError
from core.imports import ImportContext, Importer, Issue, RowResult
from core.tabular import ColumnMap, Row, parse_bool, parse_int
from donations import services
from donations.choices import BeneficiaryKind
from donations.models import Beneficiary, GrantProject, MayoralOrder, OrderAnnexBeneficiary, OrderAnnexDevice

__all__ = ["BeneficiaryImporter", "OrderAnnexImporter"]

CONTACT = ("name", "address", "email", "phone")

BENEFICIARY_COLUMNS = ColumnMap({
    "project": ["projekt", "numer umowy o dofinansowanie", "nr umowy o dofinansowanie", "grant agreement number"],
    "code": ["kod", "kod beneficjenta", "beneficjent", "beneficiary code"],
    "kind": ["rodzaj", "typ", "rodzaj beneficjenta"],
    "name": ["nazwa", "imię i nazwisko", "nazwa lub imię i nazwisko"],
    "address": ["adres"],
    "email": ["e-mail", "adres e-mail"],
    "phone": ["telefon", "tel"],
    "eligibility_basis": ["podstawa kwalifikacji", "kryterium", "eligibility basis"],
    "eligibility_reference": ["dokument", "sygnatura dokumentu", "eligibility reference"],
    "qualified_on": ["data kwalifikacji", "zakwalifikowany dnia", "qualified on"],
    "is_active": ["aktywny", "active"],
    "notes": ["uwagi"],
}, required=("project", "code"))


class BeneficiaryImporter(ServiceImporter):
    """Beneficiaries of grant projects, created or updated by project and code."""

    key = "beneficiaries"
    label = gettext_lazy("beneficiaries of grant projects")
    columns = BENEFICIARY_COLUMNS
    key_field = "code"
    permissions = ("donations.add_beneficiary", "donations.change_beneficiary")
    view_permission = "donations.view_beneficiary"

    text_fields = (*CONTACT, "eligibility_basis", "eligibility_reference", "notes")

    def make_cells(self) -> dict[str, FieldCells]:
        return {"kind": FieldCells(Beneficiary._meta.get_field("kind"), ChoiceCells(BeneficiaryKind)),
                "qualified_on": field_cells(Beneficiary, "qualified_on"),
                "is_active": FieldCells(Beneficiary._meta.get_field("is_active"), parse_bool)}

    def _project(self, ctx: ImportContext, number: str) -> GrantProject | None:
        projects = ctx.cache.setdefault("projects", {})
        if number not in projects:
            projects[number] = GrantProject.objects.filter(agreement_number=number).first()
        return projects[number]

    def row_key(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> str | None:
        code = super().row_key(row, ctx, issues)
        number = as_text(row.values.get("project"))
        if not number:
            issues.append(ctx.issue(row, "project", "", _("this column cannot be empty")))
            return None
        if self._project(ctx, number) is None:
            issues.append(ctx.issue(row, "project", number, _("no grant project has this agreement number")))
            return None
        return None if code is None else f"{number}\t{code}"

    def find(self, keys: list[str]) -> dict[str, Beneficiary]:
        pairs = [key.split("\t", 1) for key in keys]
        codes = {code for _number, code in pairs}
        numbers = {number for number, _code in pairs}
        found = (Beneficiary.objects.filter(code__in=codes, project__agreement_number__in=numbers)
                 .select_related("project", "recipient"))
        return {f"{b.project.agreement_number}\t{b.code}": b for b in found}

    def current(self, instance: Beneficiary, name: str) -> Any:
        return getattr(instance.recipient, name) if name in CONTACT else getattr(instance, name)

    def convert(self, row: Row, ctx: ImportContext, issues: list[Issue]) -> dict[str, Any]:
        data: dict[str, Any] = {"code": as_text(row.values.get("code")), **self.read_cells(row, ctx, issues)}
        if data.get("is_active") is None:
            data.pop("is_active", None)
        data["project"] = self._project(ctx, as_text(row.values.get("project")))
        return data

    def create(self, data: dict[str, Any], ctx: ImportContext) -> None:
        services.beneficiary_create(by=ctx.by, **data)

    def update(self, instance: Beneficiary, data: dict[str, Any], ctx: ImportContext) -> None:
        data.pop("project", None)
        services.beneficiary_update(beneficiary=instance, by=ctx.by, **data)


ANNEX_IMPORT_COLUMNS = ColumnMap({
    "order": ["zarządzenie", "numer zarządzenia", "nr zarządzenia", "order number"],
    "line": ["lp", "l.p.", "pozycja", "nr pozycji", "annex line"],
    "inventory_number": ["numer inwentarzowy", "nr inwentarzowy", "nr inw", "inventory number"],
    "beneficiary": ["beneficjent", "kod beneficjenta", "beneficiary code"],
}, required=("order",))


class OrderAnnexImporter(Importer):
    """The annexes of mayoral orders, one row per device or beneficiary listed (the orders' export).

    Each row names its order by number and either a device (inventory number) or a beneficiary (code, in
    the order's project); an entry already in the annex is left alone. The entries of an order are added
    through `order_annex_add`, which refuses an annex that devices have already left under.
    """

    key = "order_annexes"
    label = gettext_lazy("annexes of mayoral orders")
    columns = ANNEX_IMPORT_COLUMNS
    permissions = ("donations.add_orderannexdevice", "donations.add_orderannexbeneficiary")
    view_permission = "donations.view_mayoralorder"
    chunk_size = 1000

    def process(self, rows: list[Row], ctx: ImportContext) -> list[RowResult]:
        orders = ctx.cache.setdefault("orders", {})
        numbers = {as_text(row.values.get("order")) for row in rows} - orders.keys()
        if numbers:
            orders.update({o.number: o for o in MayoralOrder.objects.filter(number__in=numbers)})
        inventory = {as_text(row.values.get("inventory_number")) for row in rows} - {""}
        devices = {d.inventory_number: d for d in Device.objects.filter(inventory_number__in=inventory)}
        codes = {as_text(row.values.get("beneficiary")) for row in rows} - {""}
        beneficiaries: dict[str, list[Beneficiary]] = {}
        for beneficiary in Beneficiary.objects.filter(code__in=codes):
            beneficiaries.setdefault(beneficiary.code, []).append(beneficiary)
        results: list[RowResult] = []
        planned: list[tuple[RowResult, Row, MayoralOrder, Device | None, Beneficiary | None, int | None]] = []
        first: dict[str, int] = {}
        for row in rows:
            result = RowResult(row.number, None, RowAction.INVALID)
            results.append(result)
            number = as_text(row.values.get("order"))
            order = orders.get(number)
            if order is None:
                result.issues.append(ctx.issue(row, "order", number, _("no mayoral order has this number")))
                continue
            inventory_number = as_text(row.values.get("inventory_number"))
            code = as_text(row.values.get("beneficiary"))
            if bool(inventory_number) == bool(code):
                result.issues.append(ctx.issue(row, "inventory_number", inventory_number or code,
                                               _("give either an inventory number or a beneficiary's code")))
                continue
            try:
                line = parse_int(row.values.get("line"))
            except ValueError as error:
                result.issues.append(ctx.issue(row, "line", row.values.get("line"), str(error)))
                continue
            device = beneficiary = None
            if inventory_number:
                device = devices.get(inventory_number)
                if device is None:
                    result.issues.append(ctx.issue(row, "inventory_number", inventory_number,
                                                   _("no device with this inventory number")))
                    continue
                key = f"{order.number}\tdevice\t{inventory_number}"
            else:
                matches = [b for b in beneficiaries.get(code, [])
                           if not order.project_id or b.project_id == order.project_id]
                if len(matches) != 1:
                    result.issues.append(ctx.issue(row, "beneficiary", code, _(
                        "no beneficiary with this code") if not matches else _(
                        "the code is used in several projects; link the order to its project")))
                    continue
                beneficiary = matches[0]
                key = f"{order.number}\tbeneficiary\t{code}"
            if key in first:
                result.issues.append(ctx.issue(row, "inventory_number" if device else "beneficiary",
                                               inventory_number or code,
                                               _("this is already in row %(row)s of this file") % {"row": first[key]}))
                continue
            first[key] = row.number
            result.key = key
            planned.append((result, row, order, device, beneficiary, line))
        earlier = ctx.earlier_rows(first)
        order_ids = {order.pk for _r, _row, order, _d, _b, _l in planned}
        listed_devices = set(OrderAnnexDevice.objects.filter(order_id__in=order_ids).values_list("order_id", "device_id"))
        listed_beneficiaries = set(OrderAnnexBeneficiary.objects.filter(order_id__in=order_ids)
                                   .values_list("order_id", "beneficiary_id"))
        new: dict[int, list] = {}
        for result, row, order, device, beneficiary, line in planned:
            if result.key in earlier:
                result.issues.append(ctx.issue(row, "inventory_number" if device else "beneficiary",
                                               row.values.get("inventory_number" if device else "beneficiary"),
                                               _("this is already in row %(row)s of this file")
                                               % {"row": earlier[result.key]}))
                result.key = None
                continue
            if (device and (order.pk, device.pk) in listed_devices) or \
                    (beneficiary and (order.pk, beneficiary.pk) in listed_beneficiaries):
                if ctx.only_new:
                    name = "inventory_number" if device else "beneficiary"
                    result.issues.append(ctx.already_registered(
                        row, name, row.values.get(name), _("in the annex of order no. %(number)s") % {"number": order.number}))
                    result.key = None
                else:
                    result.action = RowAction.UNCHANGED
                continue
            new.setdefault(order.pk, []).append((result, order, device, beneficiary, line))
        for entries in new.values():
            order = entries[0][1]
            lines = {"devices": {d.pk: line for _r, _o, d, _b, line in entries if d and line},
                     "beneficiaries": {b.pk: line for _r, _o, _d, b, line in entries if b and line}}
            try:
                with transaction.atomic(), change_reason(ctx.reason(entries[0][0].row)):
                    services.order_annex_add(order=order, by=ctx.by, lines=lines,
                                             devices=[d for _r, _o, d, _b, _l in entries if d],
                                             beneficiaries=[b for _r, _o, _d, b, _l in entries if b])
            except DomainError as error:
                for result, _o, device, _b, _l in entries:
                    result.issues.append(Issue(result.row, ctx.column("order"), order.number, error.message))
                continue
            for result, *_rest in entries:
                result.action = RowAction.CREATE
        for result in results:
            if result.issues:
                result.action = RowAction.INVALID
        return results
