"""The base of the register's export resources (django-import-export), used for export only.

Each app declares its own tables' resources (assets/resources.py, donations/resources.py) on this base.

Imports never go through these resources: they go through the services (a set-based engine on
core.tabular), which validate, lock, write history and device events. What the resources guarantee is a
file the import reads back:

- the header cells are the model field names (``inventory_number``, ``purchase_price``), stable and
  machine-readable, and core.tabular.ColumnMap always accepts a field's own name as its header;
- every cell is text, the same in CSV, XLSX and JSON and independent of the active language: dates in
  ISO form (``2020-04-15``), amounts as plain decimals with a dot and all their places (``3999.00``),
  yes/no as ``true``/``false``, choices by their stored value (``laptop``, ``in_stock``), empty as ``""``;
- a related record is named by its natural key, never by its database id: a supplier by its NIP, a
  contract by its number (with the supplier's NIP beside it), a kit by its code, a project by its grant
  agreement number, a beneficiary by its code, a device by its inventory number.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

__all__ = ["CellWidget", "ExportResource", "column"]


class CellWidget(widgets.Widget):
    """A value as the text of a cell, whatever the format and the active language (see the module)."""

    def render(self, value, obj=None, **kwargs) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value)


CELL = CellWidget()


def column(name: str, attribute: str | None = None) -> fields.Field:
    """A column headed by `name` (the field name), read from `attribute` (a `__` path for natural keys)."""
    return fields.Field(attribute=attribute or name, column_name=name, widget=CELL, readonly=True)


class ExportResource(resources.ModelResource):
    """A resource that only writes files; an import goes through the services, never through here."""

    def import_data(self, *args, **kwargs):
        raise NotImplementedError(_("This table is export-only; imports go through the import service."))
