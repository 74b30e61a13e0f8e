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
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import connection, models
from django.utils import timezone

__all__ = ["BulkWriter", "fetch_in", "table"]

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
        self.copy_sql = f"COPY {_quote(model._meta.db_table)} ({columns}) FROM STDIN"

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
        # An import's rows share most dates and every timestamp: each distinct value is adapted once.
        rows = list(rows)
        if not rows:
            return []
        pick = itemgetter(*self.attnames)
        adapted = [(index, adapt, {}) for index, adapt in enumerate(self.adapters) if adapt is not None]
        # The rows of one call carry the same fields: defaults are merged in only when some are missing.
        complete = all(name in rows[0] for name in self.attnames)
        out = []
        for row in rows:
            values = pick(row if complete else {**defaults, **row})
            if len(self.attnames) == 1:
                values = (values,)
            if adapted:
                values = list(values)
                for index, adapt, seen in adapted:
                    value = values[index]
                    if value is not None:
                        try:
                            values[index] = seen[value]
                        except KeyError:
                            seen[value] = values[index] = adapt(value)
            out.append(tuple(values))
        return out


def _parameter_limit() -> int:
    """How many parameters one statement may carry: SQLite says it (32,766 in its builds since 3.32, where
    Django assumes 999), PostgreSQL takes 65,535."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if connection.vendor == "postgresql":
        return 65_535
    return 999


def _insert_rows(table: _Table, params: list[tuple]) -> None:
    """Insert a row for every tuple of `params`, in the way the database loads rows fastest.

    PostgreSQL: COPY, a stream of rows that skips parsing and planning a statement per batch (an INSERT
    of many rows costs it about four times as much, so much that an import writing five tables could not
    stay within three times a `bulk_create` of two). Constraints, indexes and triggers apply as for an
    INSERT. Elsewhere (SQLite): an INSERT of a few hundred rows to a statement, which costs SQLite half
    of what as many one-row statements do (`executemany` binds and steps each row on its own).
    """
    if not params:
        return
    # The driver's own cursor, below Django's: its errors are turned into Django's (a duplicate key into
    # django.db.IntegrityError), as the callers expect when a concurrent writer registered the same record.
    with connection.wrap_database_errors:
        _insert_raw(table, params)


def _insert_raw(table: _Table, params: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(table.copy_sql) as copy:
            for row in params:
                copy.write_row(row)
        return
    prefix, marks = table.insert_sql.rsplit(" VALUES ", 1)
    width = len(params[0])
    per = max(1, min(500, _parameter_limit() // width))
    if connection.vendor == "sqlite":
        # The driver's own placeholders, on the same connection and transaction: Django's cursor would
        # rewrite every %s of a statement of thousands of them, for each statement.
        marks = marks.replace("%s", "?")
        connection.ensure_connection()
        cursor = connection.connection.cursor()
    else:
        cursor = connection.cursor()
    full = f"{prefix} VALUES {', '.join([marks] * per)}"
    try:
        for start in range(0, len(params), per):
            part = params[start:start + per]
            statement = full if len(part) == per else f"{prefix} VALUES {', '.join([marks] * len(part))}"
            cursor.execute(statement, list(chain.from_iterable(part)))
    finally:
        cursor.close()


def _execute_each(sql: str, params: list[tuple]) -> None:
    """Run one statement (an UPDATE) for every tuple of `params`."""
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

    def insert(self, rows: list[dict[str, Any]]) -> list[tuple]:
        """Insert rows (without ids) and return the values written; the caller reads the new ids back by a
        natural key, and hands both to `write_history_of_inserted`."""
        if not rows:
            return []
        written = self.table.tuples(rows, self.table.defaults())
        _insert_rows(self.table, written)
        return written

    def write_history_of_inserted(self, written: list[tuple], ids: Sequence[int], *, user_id: int | None,
                                  reasons: Sequence[str]) -> None:
        """The "+" history rows of rows just inserted, from the very values `insert` wrote and their new ids.

        A history table has the record's columns in an order of its own, then simple-history's: each history
        row is picked from the written row with the id, the date, the type, the user and the reason after it.
        """
        if self.history is None or not written:
            return
        extras = ("id", "history_date", "history_type", "history_user_id", "history_change_reason")
        source = {name: index for index, name in enumerate(self.table.attnames)}
        source.update({name: len(self.table.attnames) + offset for offset, name in enumerate(extras)})
        missing = [name for name in self.history.attnames if name not in source]
        if missing:
            raise ValueError(f"The history of {self.model.__name__} has columns the record has not: {missing}")
        pick = itemgetter(*(source[name] for name in self.history.attnames))
        when = connection.ops.adapt_datetimefield_value(timezone.now())
        params = [pick((*row, pk, when, "+", user_id, reason[:100]))
                  for row, pk, reason in zip(written, ids, reasons)]
        _insert_rows(self.history, params)

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
        _execute_each(sql, params)

    def write_history(self, rows: list[dict[str, Any]], *, history_type: str, user_id: int | None,
                      reasons: Sequence[str]) -> None:
        """A history row per record, as django-simple-history writes it; `rows` carry the records' full values
        with their "id", and `reasons[i]` is the change reason of `rows[i]` (at most 100 characters)."""
        if self.history is None or not rows:
            return
        now = timezone.now()
        defaults = self.history.defaults()
        stamp = {"history_date": now, "history_type": history_type, "history_user_id": user_id}
        stamped = [{**defaults, **row, **stamp, "history_change_reason": reason[:100]}
                   for row, reason in zip(rows, reasons)]
        _insert_rows(self.history, self.history.tuples(stamped, defaults))


# SQLite's limit of parameters in one statement is 999 in the builds Django supports.
_IN_BATCH = 900


def fetch_in(sql: str, values: Sequence[Any], *, before: Sequence[Any] = (), after: Sequence[Any] = ()) -> list[tuple]:
    """The rows of `sql` for many values: its ``{values}`` becomes a list of parameters, 900 at a time.

    For the imports' lookups by key (inventory numbers, serial numbers): Django's `__in` prepares each
    value through the field's layers, which costs more than the query for tens of thousands of keys.
    `before` and `after` are the statement's other parameters, around the list.
    """
    rows: list[tuple] = []
    if not values:
        return rows
    values = list(values)
    size = _IN_BATCH - len(before) - len(after)
    if size < 100:
        raise ValueError("Too many other parameters for a list of values.")
    with connection.cursor() as cursor:
        for start in range(0, len(values), size):
            part = values[start:start + size]
            cursor.execute(sql.format(values=", ".join(["%s"] * len(part))), [*before, *part, *after])
            rows.extend(cursor.fetchall())
    return rows


def table(model: type[models.Model]) -> str:
    """The quoted name of a model's table, for `fetch_in`."""
    return _quote(model._meta.db_table)
