"""Reading the spreadsheets IT offices arrive with: CSV or XLSX, a row at a time.

The first step of an import: recognise the file (XLSX, or CSV in UTF-8 or Windows-1250 with its
separator), map its header to the fields an import knows by their Polish or English names, and stream
the rows as dictionaries with the row numbers a person sees in the file. Parsing a cell into a date,
a number or a yes/no is left to the parsers at the bottom, which raise `ValueError` with a short reason
the import reports with the row and column. Nothing here touches the database.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal
from xml.etree.ElementTree import ParseError

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from core.exceptions import InvalidInput

__all__ = [
    "ColumnMap",
    "Reading",
    "Row",
    "TableError",
    "TableFormat",
    "detect",
    "normalize_header",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_int",
    "read_rows",
]

# Enough to see the signature, the encoding and the whole header line of any real file.
HEAD_SIZE = 64 * 1024

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003, and password-protected XLSX
_NOT_TABLES = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"{\\rtf", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
# Text that decodes fine but is a web page or XML posing as a spreadsheet ("eksport.xls" from old systems).
_MARKUP = ("<!doctype", "<html", "<?xml", "<table")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DELIMITERS = (";", "\t", ",", "|")  # on a tie the first wins: Polish Excel writes ";"
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1250": "Windows-1250"}
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of a byte it cannot decode

# (row number, cells): cells stripped, empty ones None; every record of the file, empty ones included.
_Source = Generator[tuple[int, list[Any]], None, None]


class TableError(InvalidInput):
    """The uploaded file cannot be read as a table; the message says why and, where it can, which row."""

    default_code = "invalid_file"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message, code=code, field="file", details=details)


@dataclass(frozen=True)
class TableFormat:
    """What a file is: XLSX, or CSV with its text encoding (a Python codec name) and separator."""

    kind: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One non-empty row: its number as in the file (header = 1) and its cells by canonical field."""

    number: int
    values: dict[str, Any]


# -- recognising the file -------------------------------------------------------------------------------


def _not_a_table(filename: str) -> TableError:
    return TableError(_("The file is neither CSV nor XLSX."), code="not_a_table", details={"filename": filename})


def _empty() -> TableError:
    return TableError(_("The file is empty."), code="empty_file")


def _decode_head(head: bytes) -> tuple[str, str] | None:
    """The head as text and its encoding, or None when it is no text in UTF-8 or Windows-1250."""
    if head.startswith(codecs.BOM_UTF8):
        # A BOM says UTF-8; a byte that is not is reported with its row when the file is read.
        return head.decode("utf-8-sig", errors="replace"), "utf-8-sig"
    try:
        # Not final: the head may end inside a character that the rest of the file completes.
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return head.decode("cp1250"), "cp1250"
    except UnicodeDecodeError:
        return None


def _header_line(text: str) -> str:
    """The first non-blank line, a quoted line break included."""
    start = len(text) - len(text.lstrip())
    start = text.rfind("\n", 0, start) + 1
    quoted = False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            return text[start:index]
    return text[start:]


def _guess_delimiter(line: str) -> str:
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def detect(head: bytes, filename: str) -> TableFormat:
    """Recognise a file from its first bytes (`HEAD_SIZE` is enough); the content decides, not the name.

    Raises TableError for an empty file, an old or encrypted Excel workbook, and anything else that is
    neither XLSX (a ZIP) nor CSV text in UTF-8 (with or without BOM) or Windows-1250.
    """
    if head.startswith(_ZIP):
        return TableFormat(kind="xlsx")
    if head.startswith(_OLE2):
        raise TableError(
            _("The file is an Excel 97-2003 workbook (.xls) or a password-protected one: "
              "save it as XLSX without a password, or as CSV."),
            code="not_a_table", details={"filename": filename},
        )
    if head.startswith(_NOT_TABLES):
        raise _not_a_table(filename)
    decoded = _decode_head(head)
    if decoded is None:
        raise _not_a_table(filename)
    text, encoding = decoded
    if not text.strip():
        raise _empty()
    if _CONTROL.search(text) or text.lstrip().lower().startswith(_MARKUP):
        raise _not_a_table(filename)
    return TableFormat(kind="csv", encoding=encoding, delimiter=_guess_delimiter(_header_line(text)))


# -- the header -----------------------------------------------------------------------------------------

# NFKD takes the accents off ą ę ś ż ź ć ń ó, but ł is a letter of its own, not l with a mark.
_UNDECOMPOSED = str.maketrans({"ł": "l"})
_NON_ALNUM = re.compile(r"[\W_]+")


def normalize_header(name: str) -> str:
    """A header name as compared: " Cena (zł) " -> "cena_zl", "Numer  inwentarzowy" -> "numer_inwentarzowy"."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", "").strip().lower().translate(_UNDECOMPOSED))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _NON_ALNUM.sub("_", text).strip("_")


class ColumnMap:
    """Which header names mean which field: `{field: [aliases]}`, compared after `normalize_header`.

    The field name itself always matches, so a file exported with field names reads back. The first
    alias is the column's name in messages.
    """

    def __init__(self, aliases: Mapping[str, Iterable[str]], *, required: Iterable[str] = ()) -> None:
        self.fields: tuple[str, ...] = tuple(aliases)
        self.required: tuple[str, ...] = tuple(required)
        self._labels: dict[str, str] = {}
        self._by_name: dict[str, str] = {}
        for field, names in aliases.items():
            names = list(names)
            self._labels[field] = names[0] if names else field
            for name in (field, *names):
                owner = self._by_name.setdefault(normalize_header(name), field)
                if owner != field:
                    raise ValueError(f"Column name {name!r} would mean both {owner!r} and {field!r}.")
        unknown = [field for field in self.required if field not in self._labels]
        if unknown:
            raise ValueError(f"Required fields {unknown} are not in the column map.")

    def field_for(self, name: str) -> str | None:
        """The canonical field a header name means, or None."""
        return self._by_name.get(normalize_header(name))

    def label(self, field: str) -> str:
        """The column's name as a person would write it in the header."""
        return self._labels[field]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _map_header(header: list[str], columns: ColumnMap) -> tuple[dict[str, str], list[tuple[int, str]], list[str]]:
    """The fields found (field -> header name), their positions, and the names that mean nothing."""
    mapping: dict[str, str] = {}
    positions: list[tuple[int, str]] = []
    unknown: list[str] = []
    for index, name in enumerate(header):
        if not name:
            continue
        field = columns.field_for(name)
        if field is None:
            unknown.append(name)
        elif field in mapping:
            raise TableError(
                _("The columns “%(first)s” and “%(second)s” both mean “%(column)s”; keep one of them.")
                % {"first": mapping[field], "second": name, "column": columns.label(field)},
                code="duplicate_column", details={"field": field, "columns": [mapping[field], name]},
            )
        else:
            mapping[field] = name
            positions.append((index, field))
    if not mapping:
        shown = [name for name in header if name]
        expected = sorted(columns.fields, key=lambda field: field not in columns.required)[:5]
        raise TableError(
            _("None of the columns %(found)s matches; expected for example: %(expected)s.")
            % {"found": _quoted(shown[:8]) + (", …" if len(shown) > 8 else ""),
               "expected": _quoted(columns.label(field) for field in expected)},
            code="no_known_columns", details={"header": header},
        )
    missing = [field for field in columns.required if field not in mapping]
    if missing:
        labels = [columns.label(field) for field in missing]
        raise TableError(
            ngettext("The required column %(columns)s is missing.",
                     "The required columns %(columns)s are missing.", len(labels)) % {"columns": _quoted(labels)},
            code="missing_column", details={"fields": missing},
        )
    return mapping, positions, unknown


# -- the rows -------------------------------------------------------------------------------------------


class _Prefixed(io.RawIOBase):
    """The bytes already read for detection, then the rest of the file; closing it leaves the file open."""

    def __init__(self, head: bytes, file: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_error(number: int, error: csv.Error) -> TableError:
    if "expected after" in str(error):
        message = _("Row %(row)s has text after a closing quote; put the whole cell in quotes.")
    else:  # end of data, or a field past the size limit: a quote opened and never closed
        message = _("A quote opened in row %(row)s is never closed.")
    return TableError(message % {"row": number}, code="bad_quotes", details={"row": number})


def _csv_rows(head: bytes, file: IO[bytes], table_format: TableFormat) -> _Source:
    """The records of a CSV file, numbered by the line each starts on."""
    # surrogateescape so that a byte the encoding lacks is found in its own row, not somewhere in a chunk.
    stream = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, file)), encoding=table_format.encoding,
                              errors="surrogateescape", newline="")
    try:
        reader = csv.reader(stream, delimiter=table_format.delimiter, strict=True, skipinitialspace=True)
        last_line = 0
        while True:
            number = last_line + 1  # a record starts on the line after the previous one ended
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _csv_error(number, error) from None
            last_line = reader.line_num
            # Most rows are plain ASCII: one test of the joined row before a look at each cell.
            if not "".join(cells).isascii() and any(_ESCAPED_BYTE.search(cell) for cell in cells):
                raise TableError(
                    _("Row %(row)s is not in the file's encoding (%(encoding)s); save the whole file as UTF-8.")
                    % {"row": number, "encoding": _ENCODING_NAMES[table_format.encoding]},
                    code="encoding", details={"row": number},
                )
            yield number, [cell.strip() or None for cell in cells]
    finally:
        stream.close()


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _xlsx_rows(file: IO[bytes], filename: str) -> _Source:
    """The rows of the first sheet, numbered as the sheet numbers them."""
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ParseError, ValueError, EOFError):
        raise _not_a_table(filename) from None
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # The stored dimensions are sometimes wrong (other tools write them), and read-only mode would
        # stop at them without a word: read every row there is instead.
        sheet.reset_dimensions()
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_clean(cell) for cell in cells]
        except (zipfile.BadZipFile, ParseError, EOFError):
            raise _not_a_table(filename) from None
    finally:
        workbook.close()


def _rows(source: _Source, positions: list[tuple[int, str]], header: list[str]) -> Generator[Row, None, None]:
    width = len(header)
    unnamed = [index for index, name in enumerate(header) if not name]
    try:
        for number, cells in source:
            if cells.count(None) == len(cells):
                continue
            if len(cells) > width and any(cell is not None for cell in cells[width:]):
                used = max(index for index, cell in enumerate(cells) if cell is not None) + 1
                raise TableError(
                    _("Row %(row)s has more cells than the header: %(cells)s instead of %(columns)s.")
                    % {"row": number, "cells": used, "columns": width},
                    code="too_many_cells", details={"row": number, "cells": used, "columns": width},
                )
            for index in unnamed:
                if index < len(cells) and cells[index] is not None:
                    column = get_column_letter(index + 1)
                    raise TableError(
                        _("Row %(row)s has a value in column %(column)s, which has no name in the header.")
                        % {"row": number, "column": column},
                        code="unnamed_column", details={"row": number, "column": column},
                    )
            size = len(cells)
            yield Row(number, {field: cells[index] if index < size else None for index, field in positions})
    finally:
        source.close()


class Reading:
    """An open table: its format, its header and how it maps to fields; iterating it streams the rows once.

    `unknown_columns` are header names that mean no field, in order, for the preview to list. Close it
    (or use it in a `with`) when not reading to the end; the file object itself is left open.
    """

    def __init__(self, *, format: TableFormat, header: list[str], mapping: dict[str, str],
                 unknown_columns: list[str], source: _Source, rows: Generator[Row, None, None]) -> None:
        self.format = format
        self.header = header
        self.mapping = mapping
        self.unknown_columns = unknown_columns
        self._source = source
        self._rows = rows
        self._started = False

    def __iter__(self) -> Iterator[Row]:
        if self._started:
            raise RuntimeError("A Reading streams its rows once; call read_rows() again to re-read.")
        self._started = True
        return self._rows

    def close(self) -> None:
        self._rows.close()
        self._source.close()  # the rows may never have started, and then closing them does nothing

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_rows(file: IO[bytes], *, filename: str, columns: ColumnMap) -> Reading:
    """Open a CSV or XLSX file (a binary file object, read as a stream) and check its header.

    The header is the first non-empty row. Rows come as `Row`s keyed by field, empty ones skipped,
    strings stripped, empty cells None. Raises TableError for a file that is no table, a header that
    matches nothing, names a field twice or lacks a required one, and (while iterating) for a row with
    values outside the header. An XLSX file object must be seekable; a CSV one need not be.
    """
    head = file.read(HEAD_SIZE)
    table_format = detect(head, filename)
    if table_format.kind == "xlsx":
        file.seek(file.tell() - len(head))
        source = _xlsx_rows(file, filename)
    else:
        source = _csv_rows(head, file, table_format)
    try:
        for _number, cells in source:
            if any(cell is not None for cell in cells):
                break
        else:
            raise _empty()
        header = ["" if cell is None else str(cell).replace("\ufeff", "").strip() for cell in cells]
        while header and not header[-1]:
            header.pop()
        mapping, positions, unknown = _map_header(header, columns)
    except BaseException:
        source.close()
        raise
    return Reading(format=table_format, header=header, mapping=mapping, unknown_columns=unknown,
                   source=source, rows=_rows(source, positions, header))


# -- the cells ------------------------------------------------------------------------------------------

# Excel counts days from 1900-01-01 = 1 and believes in 29.02.1900 (serial 60); from serial 61 on, the
# serial is the number of days since 1899-12-30.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = (20000, 80000)  # 1954-10-03 .. 2119-01-11: a device's dates, not a count or a price
_SERIAL_TEXT = re.compile(r"\d{5}(?:[.,]\d+)?")
_DATE_TEXT = re.compile(
    r"(?:(?P<day>\d{1,2})(?P<sep>[./-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})"
    r"|(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2212": "-"})
_CURRENCY = re.compile(r"\s*(?:zł|zl|pln)\.?$", re.IGNORECASE)
# A lone separator is the decimal one (unless it could be either, see below); a repeated one, or one
# before the other, groups thousands.
_NUMBER = re.compile(
    r"(?P<sign>[-+]?)"
    r"(?P<whole>\d+|\d{1,3}(?P<group>[ .,])\d{3}(?:(?P=group)\d{3})*)"
    r"(?:(?P<point>[.,])(?P<fraction>\d+))?"
)
_TRUE = {"tak", "t", "yes", "y", "true", "prawda", "1", "x"}
_FALSE = {"nie", "n", "no", "false", "falsz", "fałsz", "0"}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _from_serial(number: float | int | Decimal) -> date:
    low, high = _EXCEL_SERIALS
    serial = float(number)
    if not math.isfinite(serial) or not low <= serial < high + 1:
        raise ValueError(_("an Excel date number must be between %(low)s and %(high)s") % {"low": low, "high": high})
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: Any) -> date | None:
    """A date from a cell: a date, DD.MM.YYYY (or with - or /), YYYY-MM-DD, or an Excel date number."""
    if _is_empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(_("not a date; expected DD.MM.YYYY or YYYY-MM-DD"))
    if isinstance(value, (int, float, Decimal)):
        return _from_serial(value)
    text = str(value).strip()
    if _SERIAL_TEXT.fullmatch(text):
        return _from_serial(float(text.replace(",", ".")))
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(_("not a date; expected DD.MM.YYYY or YYYY-MM-DD"))
    if match["year"]:
        year, month, day = match["year"], match["month"], match["day"]
    else:
        year, month, day = match["iso_year"], match["iso_month"], match["iso_day"]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(_("no such day in the calendar")) from None


def _decimal_from_text(text: str) -> Decimal:
    match = _NUMBER.fullmatch(text.translate(_SPACES).strip())
    if match is None or match["group"] and match["group"] == match["point"]:
        raise ValueError(_("not a number"))
    if not match["group"] and len(match["fraction"] or "") == 3 and len(match["whole"]) <= 3 \
            and not match["whole"].startswith("0"):
        # "1,234" is 1.234 to a Pole and 1234 to a Snipe-IT export: refuse rather than be 1000 times wrong.
        raise ValueError(_("ambiguous number: the separator could mean thousands or decimals"))
    whole = match["whole"].replace(match["group"] or " ", "")
    return Decimal(f"{match['sign']}{whole}.{match['fraction']}" if match["fraction"] else f"{match['sign']}{whole}")


def _decimal_from_number(value: int | float | Decimal) -> Decimal:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("not a number"))
        # The 15 significant digits Excel shows: a computed 1229.9999999999998 is the 1230 the person saw.
        return Decimal(format(value, ".15g"))
    return Decimal(value)


def parse_decimal(value: Any) -> Decimal | None:
    """An exact number from a cell: "1 234,56", "1.234,56", "1,234.56", "1234.56 zł", or a number."""
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError(_("not a number"))
    if isinstance(value, (int, float, Decimal)):
        return _decimal_from_number(value)
    return _decimal_from_text(_CURRENCY.sub("", str(value).strip()))


def parse_int(value: Any) -> int | None:
    """A whole number from a cell: "12", "1 234", "3,00", or a number without a fraction."""
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError(_("not a number"))
    number = _decimal_from_number(value) if isinstance(value, (int, float, Decimal)) else _decimal_from_text(str(value))
    try:
        if number == number.to_integral_value():
            return int(number)
    except InvalidOperation:
        pass
    raise ValueError(_("not a whole number"))


def parse_bool(value: Any) -> bool | None:
    """Yes or no from a cell: tak/nie, yes/no, true/false (PRAWDA/FAŁSZ from Polish Excel), 1/0, x.

    An empty cell is None, not False: a column of x marks leaves the others empty, and the import
    decides what an empty cell means for its field.
    """
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("expected yes or no (tak/nie)"))
