"""Downloads of a report: CSV for a Polish Excel and XLSX, from the same JSON the API answers with.

Both read the report's public shape ({name, title, as_of, tables: [{name, title, columns: [{key, label,
type}], rows}]}) and turn each typed value back into what a spreadsheet shows: money as a number with
two decimals, months and dates as dates, a choice by its translated label (the row's `<key>_label`).

CSV: one table (the first of the answer; the view narrows it with ?table=), UTF-8 with a BOM and `;`
between cells, decimal commas, DD.MM.YYYY dates: what a Polish Excel opens as it is.
XLSX: one sheet per table, the translated labels as the header row, real numbers and dates.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework.renderers import BaseRenderer

__all__ = ["ReportCSVRenderer", "ReportXLSXRenderer", "XLSX_MEDIA_TYPE"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula to a spreadsheet: a location typed as "=HYPERLINK(...)"
# must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _month(value: str) -> date:
    year, month = value.split("-")[:2]
    return date(int(year), int(month), 1)


def _typed(column: dict, row: dict):
    """The cell's value as Python: Decimal for money, date for dates and months, the label for a choice."""
    key, kind = column["key"], column.get("type", "text")
    if f"{key}_label" in row:
        return row[f"{key}_label"]
    value = row.get(key)
    if value is None or value == "":
        return None
    if kind == "money":
        return Decimal(str(value))
    if kind == "month":
        return _month(str(value))
    if kind == "date":
        return date.fromisoformat(str(value)[:10])
    return value


def _decimal_comma(value, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def _csv_text(column: dict, value) -> str:
    kind = column.get("type", "text")
    if value is None:
        return ""
    if kind == "money":
        return _decimal_comma(value, 2)
    if kind in ("number", "percent"):
        return _decimal_comma(float(value), 1)
    if kind == "month":
        return value.strftime("%m.%Y")
    if kind == "date":
        return value.strftime("%d.%m.%Y")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) and kind in ("text", "choice") else text


class ReportCSVRenderer(BaseRenderer):
    """One table of a report as CSV: UTF-8 with BOM, `;`, decimal commas, DD.MM.YYYY."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        table = data["tables"][0]
        columns = table["columns"]
        writer.writerow([column["label"] for column in columns])
        for row in table["rows"]:
            writer.writerow([_csv_text(column, _typed(column, row)) for column in columns])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_NUMBER_FORMATS = {"money": "#,##0.00", "number": "0.0", "percent": "0.0", "int": "#,##0", "year": "0",
                   "date": "DD.MM.YYYY", "month": "MM.YYYY"}
_BAD_SHEET_CHARACTERS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_title(title: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = (title.translate(_BAD_SHEET_CHARACTERS).strip() or "Arkusz")[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


class ReportXLSXRenderer(BaseRenderer):
    """Every table of a report as a sheet of an XLSX workbook, with real numbers and dates."""

    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        workbook = Workbook()
        workbook.remove(workbook.active)
        workbook.properties.title = str(data.get("title", ""))
        taken: set[str] = set()
        bold = Font(bold=True)
        for table in data["tables"]:
            sheet = workbook.create_sheet(_sheet_title(str(table["title"]), taken))
            columns = table["columns"]
            sheet.append([column["label"] for column in columns])
            for cell in sheet[1]:
                cell.font = bold
            widths = [len(str(column["label"])) for column in columns]
            for number, row in enumerate(table["rows"], start=2):
                for index, column in enumerate(columns, start=1):
                    value = _typed(column, row)
                    kind = column.get("type", "text")
                    if kind == "money" and value is not None:
                        value = float(value)
                    cell = sheet.cell(row=number, column=index, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # never a formula, whatever the text starts with
                    if kind in _NUMBER_FORMATS and value is not None:
                        cell.number_format = _NUMBER_FORMATS[kind]
                    widths[index - 1] = max(widths[index - 1], len(_csv_text(column, value)) if value is not None
                                            else 0)
            for index, width in enumerate(widths, start=1):
                sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, width + 2))
            sheet.freeze_panes = "A2"
        if not workbook.worksheets:
            workbook.create_sheet("Arkusz")
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
