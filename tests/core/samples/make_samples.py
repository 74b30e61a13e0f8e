"""Writes the sample files of tests/core/test_tabular.py; run it from the repository root to remake them.

    .venv/bin/python tests/core/samples/make_samples.py

The files are committed, so the tests read the same bytes an office would upload; this script only
says how the binary ones (Windows-1250 text, XLSX, PNG, PDF) were made.
"""
from __future__ import annotations

import struct
import zlib
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
NBSP = "\u00a0"


def write_text(name: str, text: str, *, encoding: str = "utf-8", crlf: bool = False) -> None:
    if crlf:
        text = text.replace("\n", "\r\n")
    (HERE / name).write_bytes(text.encode(encoding))


def csv_samples() -> None:
    # Excel "CSV UTF-8 (rozdzielany przecinkami)" on a Polish Windows: BOM, ";", CRLF. Odd header spacing,
    # a row of empty cells and a blank line in the middle, empty rows at the end.
    write_text("utf8_bom_semicolon.csv", (
        " Numer inwentarzowy ;Nazwa;Data zakupu;Cena (zł);Uwagi\n"
        f"UG/2023/001 ;Laptop Dell Latitude 5440  ;15.03.2023;1{NBSP}234,56;Zażółć gęślą jaźń\n"
        ";;;;\n"
        "\n"
        "UG/2023/002;Drukarka HP;1.4.2023;3999,00 zł;\n"
        ";;;;\n"
        "\n"
    ), encoding="utf-8-sig", crlf=True)
    # A Snipe-IT asset export: UTF-8 without BOM, ",", quoted cells with commas and a line break inside.
    write_text("snipeit_assets.csv", (
        "Company,Name,Asset Tag,Category,Serial,Purchase Date,Purchase Cost,Notes\n"
        'Urząd Gminy,"Monitor 24"", Iiyama",UG-0001,Monitors,SN-1,2023-03-15,"1,234.56","Room 12, 1st floor"\n'
        'Urząd Gminy,Switch,UG-0002,Network,SN-2,2023-03-16 10:30:00,250.00,"Line one\nline two"\n'
        "Urząd Gminy,Router,UG-0003,Network,SN-3,2023-03-17,99,\n"
    ))
    # A hand-typed list saved by old Excel as "CSV (rozdzielany średnikami)": Windows-1250, ";", CRLF.
    write_text("cp1250_semicolon.csv", (
        "Nr inw.;Nazwa;Data zakupu;Cena;Uwagi\n"
        "ŁÓDŹ/1;Zestaw komputerowy;15-03-2023;1.234,56;Zażółć gęślą jaźń\n"
        "ŁÓDŹ/2;Skaner;15/03/2023;3999,00 zł;ĄĘŁŚŻŹĆŃÓ ąęłśżźćńó\n"
        "ŁÓDŹ/3;Niszczarka;45000;12,5;\n"
    ), encoding="cp1250", crlf=True)
    write_text("one_column.csv", "Numer inwentarzowy\nUG/1\n\nUG/2\n")
    write_text("header_only.csv", "Numer inwentarzowy;Nazwa;Data zakupu\n", crlf=True)
    write_text("empty.csv", "")
    write_text("blank_lines.csv", "\n   \n\t\n", crlf=True)
    # A list of beneficiaries sent instead of the device list.
    write_text("header_matches_nothing.csv", "Imię;Nazwisko;Szkoła\nJan;Kowalski;SP 1\n")
    write_text("duplicate_column.csv", "Numer inwentarzowy;Nazwa;Nr inw.\nUG/1;Laptop;UG/1\n")
    write_text("missing_required.csv", "Numer inwentarzowy;Data zakupu\nUG/1;15.03.2023\n")
    write_text("too_many_cells.csv", (
        "Numer inwentarzowy;Nazwa;Cena\n"
        "UG/1;Laptop;3999,00\n"
        "UG/2;Monitor;799,00;przypisany do sekretariatu\n"
    ))


def xlsx_sample() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Wykaz sprzętu"
    sheet.append([" Numer  inwentarzowy", "Nazwa", "Data zakupu", "Cena (zł)", "Uwagi", "Lokalizacja"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(["UG/2023/001", "Laptop Dell  ", datetime(2023, 3, 15), 3999.0, "Zażółć gęślą jaźń", "Sekretariat"])
    sheet["C2"].number_format = "DD.MM.YYYY"
    sheet.append(["UG/2023/002", "Monitor", 45000, 799, None, "Pokój 12"])  # a date typed as a plain number
    sheet.append([])  # row 4: empty
    sheet.append(["UG/2023/003", "Drukarka", "01.04.2023", "1 234,56", None, None])
    sheet.append([date(2024, 1, 2), "Router", date(2024, 1, 2), 0.1 + 0.2, None, None])
    sheet["A6"].number_format = sheet["C6"].number_format = "YYYY-MM-DD"
    for row in (7, 8, 9):  # empty but formatted rows at the end, as a sheet someone has scrolled through
        sheet.cell(row=row, column=1).font = Font(italic=True)
    workbook.create_sheet("Słowniki").append(["not read: only the first sheet is"])
    workbook.save(HERE / "inventory.xlsx")


def png_sample() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = zlib.compress(b"\x00\xff\x00\x00")
    (HERE / "scan.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
    )


def pdf_sample() -> None:
    # Uncompressed: the whole file is text, so only its signature gives it away.
    pdf = canvas.Canvas(str(HERE / "invoice.pdf"), pageCompression=0, invariant=1)
    pdf.drawString(72, 720, "Faktura VAT 1/2023; Numer inwentarzowy; Nazwa")
    pdf.save()


if __name__ == "__main__":
    csv_samples()
    xlsx_sample()
    png_sample()
    pdf_sample()
