"""Writing many rows of an audited model at once, with their history rows, for the imports.

Django's `bulk_create` builds an instance per row and prepares every value through the field's layers,
and SQLite caps it at 999 parameters a statement (47 devices); with `bulk_create_with_history` a
100,000-device import took half a minute. A `BulkWriter` writes the same rows as plain tuples through
one prepared statement per table (`executemany`), and writes django-simple-history's rows itself, with
the same columns the library writes: the record's values, `history_date`, `history_type` ("+" created,
"~" changed), `history_user_id` and `history_change_reason`.

Nothing here validates: the caller (an import service) has checked every value against the model's
fields and rules before handing rows over. Rows are dictionaries keyed by the fields' `attname`
(``contract_id``); a field left out takes its default.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

__all__ = ["BulkWriter"]

_CHUNK = 2000  # rows per executemany call: bounds the memory of one statement's parameters


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How the database driver wants a field's values, or None when it takes the Python value as it is."""
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        digits, places = field.max_digits, field.decimal_places
        return lambda value: None if value is None else ops.adapt_decimalfield_value(value, digits, places)
    return None


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


class _Table:
    """One table's insert statement, its columns in order and how to adapt each value."""

    def __init__(self, model: type[models.Model], fields: Sequence[models.Field]) -> None:
        self.model = model
        self.fields = list(fields)
        self.attnames = [field.attname for field in self.fields]
        self.adapters = [_adapter(field) for field in self.fields]
        columns = ", ".join(_quote(field.column) for field in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.insert_sql = f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES ({marks})"

    def defaults(self) -> dict[str, Any]:
        now = timezone.now()
        values = {}
        for field in self.fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                values[field.attname] = now
            elif field.has_default():
                values[field.attname] = field.get_default()
            elif field.null:
                values[field.attname] = None
        return values

    def tuples(self, rows: Iterable[dict[str, Any]], defaults: dict[str, Any]) -> list[tuple]:
        pairs = list(zip(self.attnames, self.adapters))
        out = []
        for row in rows:
            values = []
            for attname, adapt in pairs:
                value = row[attname] if attname in row else defaults[attname]
                values.append(adapt(value) if adapt is not None and value is not None else value)
            out.append(tuple(values))
        return out


def _execute_many(sql: str, params: list[tuple]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(params), _CHUNK):
            cursor.executemany(sql, params[start:start + _CHUNK])


class BulkWriter:
    """Inserts and updates rows of `model` by the thousand, with a history row for each when it has history."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = _Table(model, [f for f in model._meta.concrete_fields if not f.primary_key])
        history = getattr(model, "history", None)
        self.history: _Table | None = None
        if history is not None:
            historical = history.model
            self.history = _Table(historical, [f for f in historical._meta.concrete_fields if not f.primary_key])

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert rows (without ids); the caller reads the new ids back by a natural key."""
        if rows:
            _execute_many(self.table.insert_sql, self.table.tuples(rows, self.table.defaults()))

    def update(self, rows: list[dict[str, Any]], fields: Sequence[str]) -> None:
        """Set `fields` (attnames) of each row, found by its "id"; `updated_at` is set too when the model has it."""
        if not rows:
            return
        fields = list(fields)
        by_name = {field.attname: field for field in self.table.fields}
        if "updated_at" in by_name and "updated_at" not in fields:
            fields.append("updated_at")
        now = timezone.now()
        adapters = [(name, _adapter(by_name[name])) for name in fields]
        assignments = ", ".join(f"{_quote(by_name[name].column)} = %s" for name in fields)
        sql = f"UPDATE {_quote(self.model._meta.db_table)} SET {assignments} WHERE {_quote('id')} = %s"
        params = []
        for row in rows:
            values = []
            for name, adapt in adapters:
                value = now if name == "updated_at" else row[name]
                values.append(adapt(value) if adapt is not None and value is not None else value)
            values.append(row["id"])
            params.append(tuple(values))
        _execute_many(sql, params)

    def write_history(self, rows: list[dict[str, Any]], *, history_type: str, user_id: int | None,
                      reasons: Sequence[str]) -> None:
        """A history row per record, as django-simple-history writes it; `rows` carry the records' full values
        with their "id", and `reasons[i]` is the change reason of `rows[i]` (at most 100 characters)."""
        if self.history is None or not rows:
            return
        now = timezone.now()
        defaults = self.history.defaults()
        defaults.update(history_date=now, history_type=history_type, history_user_id=user_id)
        stamped = [{**row, "history_change_reason": reason[:100]} for row, reason in zip(rows, reasons)]
        _execute_many(self.history.insert_sql, self.history.tuples(stamped, defaults))
