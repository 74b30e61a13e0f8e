"""Reading the spreadsheets offices arrive with: formats, header mapping, refusals, cell parsers, memory.

The files in tests/core/samples/ are real bytes as an office would upload them (make_samples.py there
says how the binary ones were made).
"""
import io
import shutil
import tracemalloc
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from core.exceptions import InvalidInput
from core.tabular import (
    HEAD_SIZE,
    ColumnMap,
    TableError,
    TableFormat,
    detect,
    normalize_header,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    read_rows,
)

SAMPLES = Path(__file__).resolve().parent / "samples"

DEVICES = ColumnMap(
    {
        "inventory_number": ["Numer inwentarzowy", "Nr inw.", "Asset Tag"],
        "name": ["Nazwa", "Name"],
        "serial_number": ["Numer seryjny", "Serial"],
        "purchased_on": ["Data zakupu", "Purchase Date"],
        "price": ["Cena (zł)", "Cena", "Purchase Cost"],
        "notes": ["Uwagi", "Notes"],
    },
    required=["inventory_number", "name"],
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def read_sample(name: str, columns: ColumnMap = DEVICES):
    """(reading, rows as (number, values)) of a sample file."""
    with open(SAMPLES / name, "rb") as file:
        reading = read_rows(file, filename=name, columns=columns)
        return reading, [(row.number, row.values) for row in reading]


def read_bytes(data: bytes, columns: ColumnMap = DEVICES, filename: str = "upload.csv"):
    reading = read_rows(io.BytesIO(data), filename=filename, columns=columns)
    return reading, [(row.number, row.values) for row in reading]


def refusal(name: str, columns: ColumnMap = DEVICES) -> TableError:
    with pytest.raises(TableError) as caught:
        read_sample(name, columns)
    return caught.value


# -- real-world files -----------------------------------------------------------------------------------


def test_excel_utf8_csv_with_bom_semicolons_and_odd_header_spacing():
    assert (SAMPLES / "utf8_bom_semicolon.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    reading, rows = read_sample("utf8_bom_semicolon.csv")
    assert reading.format == TableFormat(kind="csv", encoding="utf-8-sig", delimiter=";")
    assert reading.header == ["Numer inwentarzowy", "Nazwa", "Data zakupu", "Cena (zł)", "Uwagi"]
    assert reading.mapping == {"inventory_number": "Numer inwentarzowy", "name": "Nazwa",
                               "purchased_on": "Data zakupu", "price": "Cena (zł)", "notes": "Uwagi"}
    assert reading.unknown_columns == []
    # Lines 3-4 (empty cells, a blank line) and 6-7 at the end are skipped; numbers stay as in the file.
    assert rows == [
        (2, {"inventory_number": "UG/2023/001", "name": "Laptop Dell Latitude 5440", "purchased_on": "15.03.2023",
             "price": "1\u00a0234,56", "notes": "Zażółć gęślą jaźń"}),
        (5, {"inventory_number": "UG/2023/002", "name": "Drukarka HP", "purchased_on": "1.4.2023",
             "price": "3999,00 zł", "notes": None}),
    ]
    assert [parse_decimal(values["price"]) for _, values in rows] == [Decimal("1234.56"), Decimal("3999.00")]
    assert [parse_date(values["purchased_on"]) for _, values in rows] == [date(2023, 3, 15), date(2023, 4, 1)]


def test_snipeit_csv_with_commas_quotes_and_a_line_break_in_a_cell():
    reading, rows = read_sample("snipeit_assets.csv")
    assert reading.format == TableFormat(kind="csv", encoding="utf-8", delimiter=",")
    assert reading.mapping == {"name": "Name", "inventory_number": "Asset Tag", "serial_number": "Serial",
                               "purchased_on": "Purchase Date", "price": "Purchase Cost", "notes": "Notes"}
    assert reading.unknown_columns == ["Company", "Category"]  # for the preview: not silently dropped
    assert [number for number, _ in rows] == [2, 3, 5]  # the note of line 3 goes on over line 4
    first, second, third = (values for _, values in rows)
    assert first["name"] == 'Monitor 24", Iiyama' and first["notes"] == "Room 12, 1st floor"
    assert parse_decimal(first["price"]) == Decimal("1234.56")
    assert second["notes"] == "Line one\nline two"
    assert parse_date(second["purchased_on"]) == date(2023, 3, 16)
    assert third["notes"] is None and parse_decimal(third["price"]) == Decimal("99")


def test_windows_1250_csv_keeps_polish_letters():
    raw = (SAMPLES / "cp1250_semicolon.csv").read_bytes()
    assert "ŁÓDŹ/1".encode("cp1250") in raw and "Zażółć gęślą jaźń".encode("cp1250") in raw
    reading, rows = read_sample("cp1250_semicolon.csv")
    assert reading.format == TableFormat(kind="csv", encoding="cp1250", delimiter=";")
    assert [values["inventory_number"] for _, values in rows] == ["ŁÓDŹ/1", "ŁÓDŹ/2", "ŁÓDŹ/3"]
    assert rows[0][1]["notes"] == "Zażółć gęślą jaźń"
    assert rows[1][1]["notes"] == "ĄĘŁŚŻŹĆŃÓ ąęłśżźćńó"
    assert [parse_date(values["purchased_on"]) for _, values in rows] == [date(2023, 3, 15)] * 3
    assert [parse_decimal(values["price"]) for _, values in rows] == [
        Decimal("1234.56"), Decimal("3999.00"), Decimal("12.5")]


def test_one_column_file():
    inventory_numbers = ColumnMap({"inventory_number": ["Numer inwentarzowy"]}, required=["inventory_number"])
    reading, rows = read_sample("one_column.csv", inventory_numbers)
    assert reading.format.delimiter == ","
    assert rows == [(2, {"inventory_number": "UG/1"}), (4, {"inventory_number": "UG/2"})]


def test_real_xlsx_with_date_cells_numbers_and_sheet_row_numbers():
    reading, rows = read_sample("inventory.xlsx")
    assert reading.format == TableFormat(kind="xlsx")
    assert reading.header == ["Numer  inwentarzowy", "Nazwa", "Data zakupu", "Cena (zł)", "Uwagi", "Lokalizacja"]
    assert reading.mapping["inventory_number"] == "Numer  inwentarzowy"
    assert reading.unknown_columns == ["Lokalizacja"]
    assert [number for number, _ in rows] == [2, 3, 5, 6]  # row 4 and the formatted rows 7-9 are empty
    laptop, monitor, printer, router = (values for _, values in rows)
    assert laptop["name"] == "Laptop Dell" and laptop["notes"] == "Zażółć gęślą jaźń"
    assert [parse_date(values["purchased_on"]) for values in (laptop, monitor, printer, router)] == [
        date(2023, 3, 15), date(2023, 3, 15), date(2023, 4, 1), date(2024, 1, 2)]
    assert [parse_decimal(values["price"]) for values in (laptop, monitor, printer, router)] == [
        Decimal("3999.00"), Decimal("799"), Decimal("1234.56"), Decimal("0.3")]
    assert isinstance(router["inventory_number"], datetime)  # a cell Excel took for a date is given as is


def test_xlsx_is_known_by_its_content_whatever_its_name(tmp_path):
    renamed = tmp_path / "wykaz.csv"
    shutil.copy(SAMPLES / "inventory.xlsx", renamed)
    with open(renamed, "rb") as file:
        reading = read_rows(file, filename=renamed.name, columns=DEVICES)
        assert reading.format.kind == "xlsx" and len(list(reading)) == 4


def test_xlsx_rows_past_a_wrong_stored_dimension_are_still_read(tmp_path):
    """Some tools store a sheet size smaller than the sheet; read-only openpyxl would stop there silently."""
    damaged = tmp_path / "wykaz.xlsx"
    with zipfile.ZipFile(SAMPLES / "inventory.xlsx") as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:F9" />' in data
                data = data.replace(b'<dimension ref="A1:F9" />', b'<dimension ref="A1:B2" />')
            target.writestr(item, data)
    with open(damaged, "rb") as file:
        rows = list(read_rows(file, filename=damaged.name, columns=DEVICES))
    assert [row.number for row in rows] == [2, 3, 5, 6]
    assert rows[0].values["notes"] == "Zażółć gęślą jaźń"


def test_a_file_with_only_a_header_has_no_rows():
    reading, rows = read_sample("header_only.csv")
    assert reading.mapping == {"inventory_number": "Numer inwentarzowy", "name": "Nazwa",
                               "purchased_on": "Data zakupu"}
    assert rows == []


def test_short_rows_get_empty_cells_and_trailing_empty_cells_are_no_extra_cells():
    _, rows = read_bytes(b"Numer inwentarzowy;Nazwa;Uwagi;\nUG/1;Laptop\nUG/2;Monitor;;;;\n")
    assert rows == [(2, {"inventory_number": "UG/1", "name": "Laptop", "notes": None}),
                    (3, {"inventory_number": "UG/2", "name": "Monitor", "notes": None})]


def test_the_field_names_themselves_are_a_header():
    """What we export (field names as the header) reads back."""
    _, rows = read_bytes(b"inventory_number,name,purchased_on\nUG/1,Laptop,2023-03-15\n")
    assert rows == [(2, {"inventory_number": "UG/1", "name": "Laptop", "purchased_on": "2023-03-15"})]


def test_the_uploaded_file_stays_open_for_the_caller():
    read_through = io.BytesIO(b"Numer inwentarzowy;Nazwa\nUG/1;Laptop\n")
    assert len(list(read_rows(read_through, filename="a.csv", columns=DEVICES))) == 1
    left_unread = io.BytesIO(b"Numer inwentarzowy;Nazwa\nUG/1;Laptop\n")
    with read_rows(left_unread, filename="a.csv", columns=DEVICES):
        pass
    with open(SAMPLES / "inventory.xlsx", "rb") as xlsx:
        read_rows(xlsx, filename="inventory.xlsx", columns=DEVICES).close()
        assert not xlsx.closed
    assert not read_through.closed and not left_unread.closed


@pytest.mark.parametrize("name", ["inventory.xlsx", "cp1250_semicolon.csv"])
def test_a_django_upload_reads_like_a_file(name):
    upload = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
    reading = read_rows(upload, filename=upload.name, columns=DEVICES)
    assert [row.number for row in reading] == ([2, 3, 5, 6] if name.endswith(".xlsx") else [2, 3, 4])


def test_the_rows_stream_once():
    reading, _ = read_bytes(b"Numer inwentarzowy;Nazwa\nUG/1;Laptop\n")
    with pytest.raises(RuntimeError):
        iter(reading)


# -- recognising a file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "delimiter"), [
    ("Numer;Nazwa;Cena", ";"),
    ("Numer\tNazwa\tCena", "\t"),
    ("Numer,Nazwa,Cena", ","),
    ("Numer|Nazwa|Cena", "|"),
    ('"Cena, brutto";Nazwa;Uwagi', ";"),  # the comma inside quotes does not count
    ('"Nazwa; model",Cena,Uwagi', ","),
    ("Numer inwentarzowy", ","),
])
def test_the_delimiter_is_the_most_frequent_one_in_the_header_line(header, delimiter):
    assert detect(f"\n{header}\r\n1;2,3\t4|5|6|7|8\n".encode(), "a.csv").delimiter == delimiter


def test_the_encoding_is_told_from_the_bytes():
    text = "Nazwa;Uwagi\nŁódź;Zażółć gęślą jaźń\n"
    assert detect(text.encode("utf-8-sig"), "a.csv").encoding == "utf-8-sig"
    assert detect(text.encode("utf-8"), "a.csv").encoding == "utf-8"
    assert detect(text.encode("cp1250"), "a.csv").encoding == "cp1250"
    cut_inside_a_letter = text.encode("utf-8")[: text.encode("utf-8").index("ó".encode()) + 1]
    assert detect(cut_inside_a_letter, "a.csv").encoding == "utf-8"


@pytest.mark.parametrize("name", ["scan.png", "invoice.pdf"])
def test_a_picture_or_a_pdf_is_neither_csv_nor_xlsx(name):
    error = refusal(name)
    assert error.message == "The file is neither CSV nor XLSX."
    assert error.field == "file" and error.code == "not_a_table" and error.details == {"filename": name}
    assert isinstance(error, InvalidInput) and error.status_code == 400


@pytest.mark.parametrize("data", [
    b"<!DOCTYPE html><html><table><tr><td>Numer inwentarzowy</td></tr></table></html>",
    b"Numer inwentarzowy;Nazwa\nUG/1;\x00\x00\x00\x01\x02",
    b"Numer inwentarzowy;Nazwa\n\x81\x83\x88\x90\x98",  # bytes that are not text in UTF-8 nor Windows-1250
])
def test_text_that_is_no_table_is_neither_csv_nor_xlsx(data):
    with pytest.raises(TableError, match="The file is neither CSV nor XLSX."):
        read_bytes(data)


def test_a_zip_that_is_no_workbook_is_neither_csv_nor_xlsx():
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(TableError, match="The file is neither CSV nor XLSX.") as caught:
        read_bytes(document.getvalue(), filename="pismo.xlsx")
    assert caught.value.details == {"filename": "pismo.xlsx"}


def test_an_old_excel_workbook_is_refused_with_what_to_do():
    with pytest.raises(TableError) as caught:
        read_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), filename="wykaz.xls")
    assert "(.xls)" in caught.value.message and "save it as XLSX" in caught.value.message


@pytest.mark.parametrize("name", ["empty.csv", "blank_lines.csv"])
def test_an_empty_file_is_refused(name):
    error = refusal(name)
    assert error.message == "The file is empty." and error.code == "empty_file"


def test_an_xlsx_with_nothing_in_its_first_sheet_is_empty(tmp_path):
    import openpyxl

    path = tmp_path / "pusty.xlsx"
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Druga").append(["Numer inwentarzowy"])  # the first sheet is the one read
    workbook.save(path)
    with open(path, "rb") as file, pytest.raises(TableError, match="The file is empty."):
        read_rows(file, filename=path.name, columns=DEVICES)


# -- the header -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "normalized"), [
    (" Numer inwentarzowy ", "numer_inwentarzowy"),
    ("Numer  inwentarzowy", "numer_inwentarzowy"),
    ("\ufeffData zakupu", "data_zakupu"),
    ("Cena (zł)", "cena_zl"),
    ("Nr inw.", "nr_inw"),
    ("ŁÓDŹ", "lodz"),
    ("Zażółć gęślą jaźń", "zazolc_gesla_jazn"),
    ("Purchase-Cost", "purchase_cost"),
    ("__Uwagi__", "uwagi"),
])
def test_header_names_are_compared_without_case_accents_or_punctuation(name, normalized):
    assert normalize_header(name) == normalized


def test_a_header_that_matches_nothing_is_refused_with_examples():
    error = refusal("header_matches_nothing.csv")
    assert error.code == "no_known_columns"
    assert error.message == ("None of the columns “Imię”, “Nazwisko”, “Szkoła” matches; expected for example: "
                             "“Numer inwentarzowy”, “Nazwa”, “Numer seryjny”, “Data zakupu”, “Cena (zł)”.")


def test_two_columns_meaning_the_same_field_are_refused():
    error = refusal("duplicate_column.csv")
    assert error.code == "duplicate_column"
    assert error.message == ("The columns “Numer inwentarzowy” and “Nr inw.” both mean “Numer inwentarzowy”; "
                             "keep one of them.")


def test_a_missing_required_column_is_refused_by_name():
    error = refusal("missing_required.csv")
    assert error.code == "missing_column" and error.details == {"fields": ["name"]}
    assert error.message == "The required column “Nazwa” is missing."
    with pytest.raises(TableError, match="The required columns “Numer inwentarzowy”, “Nazwa” are missing."):
        read_bytes(b"Data zakupu;Cena\n15.03.2023;100\n")


def test_a_column_map_refuses_a_name_given_to_two_fields():
    with pytest.raises(ValueError, match="'nr.' would mean both 'inventory_number' and 'serial_number'"):
        ColumnMap({"inventory_number": ["Nr"], "serial_number": ["nr."]})


# -- rows the reader refuses ----------------------------------------------------------------------------


def test_a_row_with_more_cells_than_the_header_is_refused_with_its_row():
    error = refusal("too_many_cells.csv")
    assert error.code == "too_many_cells" and error.details == {"row": 3, "cells": 4, "columns": 3}
    assert error.message == "Row 3 has more cells than the header: 4 instead of 3."


def test_a_value_under_a_column_without_a_name_is_refused():
    with pytest.raises(TableError, match="Row 3 has a value in column C, which has no name in the header."):
        read_bytes(b"Numer inwentarzowy;Nazwa;;Uwagi\nUG/1;Laptop;;\nUG/2;Monitor;bez nazwy;\n")


def test_a_byte_outside_the_encoding_is_reported_with_its_row():
    """The encoding comes from the first 64 KiB; a row further on that is not in it is named, not garbled."""
    rows = b"".join(b"UG/%05d;Laptop\n" % number for number in range(5000))
    assert len(rows) > HEAD_SIZE
    data = b"Numer inwentarzowy;Nazwa\n" + rows + "UG/X;Łódź\n".encode("cp1250")
    with pytest.raises(TableError) as caught:
        read_bytes(data)
    assert caught.value.message == ("Row 5002 is not in the file's encoding (UTF-8); "
                                    "save the whole file as UTF-8.")
    assert caught.value.details == {"row": 5002}


def test_a_quote_never_closed_is_reported_with_the_row_it_opens_in():
    with pytest.raises(TableError, match="A quote opened in row 3 is never closed."):
        read_bytes(b'Numer inwentarzowy;Nazwa\nUG/1;Laptop\nUG/2;"Monitor\nUG/3;Drukarka\n')


def test_text_after_a_closing_quote_is_reported_with_its_row():
    with pytest.raises(TableError, match="Row 2 has text after a closing quote"):
        read_bytes(b'Numer inwentarzowy;Nazwa\nUG/1;"Monitor" 24 cale\n')


# -- cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    date(2023, 3, 15), datetime(2023, 3, 15, 10, 30),
    "15.03.2023", " 15.03.2023 ", "15.3.2023", "15-03-2023", "15/03/2023", "15.03.2023 00:00",
    "2023-03-15", "2023-03-15 10:30:00", "2023-03-15T10:30:00Z",
    45000, 45000.75, "45000", Decimal("45000"),
])
def test_dates_in_every_format_offices_use(value):
    assert parse_date(value) == date(2023, 3, 15)


def test_short_day_and_month_and_empty_dates():
    assert parse_date("1.4.2023") == date(2023, 4, 1)
    assert [parse_date(value) for value in (None, "", "   ")] == [None, None, None]


def test_excel_serials_count_its_fake_29_february_1900():
    # Serial 61 is 1900-03-01 in Excel; from there on, days since 1899-12-30.
    assert parse_date(20000) == date(1954, 10, 3)
    assert parse_date(44927) == date(2023, 1, 1)
    assert parse_date(80000) == date(2119, 1, 11)


@pytest.mark.parametrize(("value", "reason"), [
    ("31.02.2023", "no such day in the calendar"),
    ("2023-13-01", "no such day in the calendar"),
    ("15.03.23", "not a date; expected DD.MM.YYYY or YYYY-MM-DD"),
    ("marzec 2023", "not a date; expected DD.MM.YYYY or YYYY-MM-DD"),
    ("12", "not a date; expected DD.MM.YYYY or YYYY-MM-DD"),
    (True, "not a date; expected DD.MM.YYYY or YYYY-MM-DD"),
    (time(10, 30), "not a date; expected DD.MM.YYYY or YYYY-MM-DD"),
    (60, "an Excel date number must be between 20000 and 80000"),
    ("12345", "an Excel date number must be between 20000 and 80000"),
    (3999.0, "an Excel date number must be between 20000 and 80000"),
])
def test_what_is_not_a_date_is_refused_with_a_reason(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    assert str(caught.value) == reason


@pytest.mark.parametrize(("value", "number"), [
    ("1 234,56", "1234.56"),
    ("1\u00a0234,56", "1234.56"),  # non-breaking space, as Excel formats it
    ("1\u202f234,56", "1234.56"),  # narrow no-break space
    ("1\u2009234,56", "1234.56"),  # thin space
    ("1234,56", "1234.56"),
    ("1234.56", "1234.56"),
    ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"),
    ("1.234.567", "1234567"),
    ("12 345 678,90", "12345678.90"),
    ("3999,00 zł", "3999.00"),
    ("3999,00zł", "3999.00"),
    ("3999.00 PLN", "3999.00"),
    ("0,125", "0.125"),
    ("1234,567", "1234.567"),
    ("-12,50", "-12.50"),
    (" 12 ", "12"),
    (3999.0, "3999.00"),
    (799, "799"),
    (0.1 + 0.2, "0.3"),  # what Excel shows, not the binary float's tail
    (Decimal("12.30"), "12.30"),
])
def test_decimals_as_offices_write_them(value, number):
    assert parse_decimal(value) == Decimal(number)


def test_float_cells_become_the_decimals_excel_shows():
    assert parse_decimal(1229.9999999999998) == Decimal("1230")  # =1000*1.23 as Excel stores it
    assert parse_decimal(3999.99) == Decimal("3999.99")
    assert [parse_decimal(value) for value in (None, "", " ")] == [None, None, None]


@pytest.mark.parametrize(("value", "reason"), [
    ("12,3,4", "not a number"),
    ("1.234.56", "not a number"),
    ("12 3", "not a number"),
    ("dwanaście", "not a number"),
    ("1e5", "not a number"),
    (True, "not a number"),
    (float("nan"), "not a number"),
    ("1,234", "ambiguous number: the separator could mean thousands or decimals"),
    ("1.234", "ambiguous number: the separator could mean thousands or decimals"),
])
def test_what_is_not_a_number_is_refused_with_a_reason(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_decimal(value)
    assert str(caught.value) == reason


@pytest.mark.parametrize(("value", "answer"), [
    ("tak", True), ("TAK", True), (" Tak ", True), ("nie", False), ("Nie", False),
    ("yes", True), ("no", False), ("true", True), ("false", False), ("PRAWDA", True), ("FAŁSZ", False),
    ("1", True), ("0", False), ("x", True), ("X", True), (True, True), (False, False), (1, True), (0.0, False),
    (None, None), ("", None),
])
def test_yes_and_no(value, answer):
    assert parse_bool(value) is answer


@pytest.mark.parametrize("value", ["może", "2", 2, "tak/nie"])
def test_what_is_not_yes_or_no_is_refused(value):
    with pytest.raises(ValueError, match=r"expected yes or no \(tak/nie\)"):
        parse_bool(value)


@pytest.mark.parametrize(("value", "number"), [
    ("12", 12), (" 1 234 ", 1234), ("3,00", 3), (7, 7), (7.0, 7), (Decimal("7"), 7), ("-2", -2),
    (None, None), ("", None),
])
def test_whole_numbers(value, number):
    assert parse_int(value) == number


@pytest.mark.parametrize(("value", "reason"), [
    ("12,5", "not a whole number"), (7.5, "not a whole number"), ("abc", "not a number"), (True, "not a number"),
])
def test_what_is_not_a_whole_number_is_refused(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_int(value)
    assert str(caught.value) == reason


# -- memory ---------------------------------------------------------------------------------------------


class ReadSpy(io.RawIOBase):
    """A file that records what it was asked for."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.sizes: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        return self._data.read(size)


def test_a_csv_is_read_in_pieces_never_whole():
    data = b"Numer inwentarzowy;Nazwa\n" + b"".join(b"UG/%06d;Laptop\n" % n for n in range(20_000))
    spy = ReadSpy(data)
    assert sum(1 for _ in read_rows(spy, filename="a.csv", columns=DEVICES)) == 20_000
    assert spy.sizes and all(0 < size <= HEAD_SIZE for size in spy.sizes)


def test_reading_a_large_csv_holds_no_rows_in_memory(tmp_path):
    path = tmp_path / "duzy.csv"
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write("Numer inwentarzowy;Nazwa;Data zakupu;Cena (zł);Uwagi\r\n")
        for start in range(0, 200_000, 10_000):
            file.writelines(f"UG/{n:06d};Zestaw komputerowy {n};15.03.2023;3999,00;Zażółć gęślą jaźń\r\n"
                            for n in range(start, start + 10_000))
    assert path.stat().st_size > 15_000_000
    tracemalloc.start()
    try:
        with open(path, "rb") as file:
            count, last = 0, None
            for row in read_rows(file, filename=path.name, columns=DEVICES):
                count, last = count + 1, row
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_000 and last.number == 200_001
    assert last.values["inventory_number"] == "UG/199999"
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"


def test_reading_an_xlsx_streams_its_sheet(tmp_path):
    """Read-only openpyxl: cells are not kept (a full load of these 5,000 rows takes about 10 MiB)."""
    import openpyxl

    path = tmp_path / "duzy.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Numer inwentarzowy", "Nazwa", "Data zakupu", "Cena (zł)", "Uwagi"])
    for n in range(5_000):
        workbook.active.append([f"UG/{n:06d}", "Zestaw komputerowy", datetime(2023, 3, 15), 3999.0, "Zażółć"])
    workbook.save(path)
    tracemalloc.start()
    try:
        with open(path, "rb") as file:
            numbers = [row.number for row in read_rows(file, filename=path.name, columns=DEVICES)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert numbers[0] == 2 and numbers[-1] == 5_001 and len(numbers) == 5_000
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"
