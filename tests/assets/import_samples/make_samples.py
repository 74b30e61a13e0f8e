"""Writes the sample files of tests/assets/test_imports.py; run it from the repository root to remake them.

    .venv/bin/python tests/assets/import_samples/make_samples.py

Each file is an inventory of devices as an office would upload it: Polish Excel's semicolon CSV (UTF-8
with BOM, and the older Windows-1250), a comma CSV, an XLSX workbook, a Snipe-IT asset export, and the
files that go wrong (not a table, empty, a header that means nothing, duplicates, unknown contracts and
suppliers, cells that are no date, price or kind). The files are committed, so the tests read the same
bytes every time; this script says how they were made.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
NBSP = "\u00a0"  # what Polish Excel writes between thousands in a number formatted "# ##0,00"

# Valid NIPs (check digit correct), made up for the samples: the Łódź supplier the tests register
# ("Przedsiębiorstwo Informatyczne „Łódź” Sp. z o.o."), and one nobody registers.
NIP_REGISTERED = "725-100-00-18"
NIP_UNREGISTERED = "525-100-00-75"

POLISH_HEADER = ("Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Lokalizacja;"
                 "Uwagi;Nośniki")


def write_text(name: str, text: str, *, encoding: str = "utf-8", crlf: bool = False) -> None:
    if crlf:
        text = text.replace("\n", "\r\n")
    (HERE / name).write_bytes(text.encode(encoding))


def excel_serial(day: date) -> int:
    """The number Excel stores for a day (from 1900-03-01 on): days since 1899-12-30."""
    return (day - date(1899, 12, 30)).days


def real_world_csv() -> None:
    # Excel "CSV UTF-8 (rozdzielany przecinkami)" on a Polish Windows: BOM, ";", CRLF, prices with a space
    # (once a non-breaking one) between thousands, spaces left after some cells, a row of empty cells and a
    # blank line in the middle, the same at the end.
    write_text("spis_utf8_bom_srednik.csv", (
        f"{POLISH_HEADER}\n"
        "UM/IT/2019/0012 ;Laptop;Lenovo ;ThinkPad T490;PF1ABC12 ;15.05.2019;3 999,00;Biuro Rady Miasta, pok. 12 ;"
        "Zażółć gęślą jaźń;ssd:256:S4EWNX0M123456\n"
        f"UM/IT/2019/0013;komputer stacjonarny;Dell;OptiPlex 7070;5XJ8K53;02.09.2019;4{NBSP}250,50;"
        "Wydział Komunikacji, ul. Piotrkowska 104, Łódź;;hdd:1000:WD-WCC6Y0ABCDEF|ssd:512:S4EWNX0M654321\n"
        ";;;;;;;;;\n"
        "\n"
        "UM/IT/2020/0101;Monitor;HP;E24 G4;CNC0123XYZ;20.01.2020;899,99;Sekretariat Prezydenta, pok. 3 ;;\n"
        "UM/IT/2020/0102;Tablet;Lenovo;Tab M10;HGA1B2C3;31.03.2020;1 049,00;Biuro Rady Miasta, pok. 12;"
        "dla radnej Żanety Łęckiej;emmc:32:\n"
        ";;;;;;;;;\n"
        "\n"
        "\n"
    ), encoding="utf-8-sig", crlf=True)
    # The same kind of list saved by an older Excel as "CSV (rozdzielany średnikami)": Windows-1250, ";",
    # the header in other Polish words (ł, ś, ż, ź, ó, ą, ę), a funding source by its Polish name.
    write_text("spis_cp1250.csv", (
        "Numer inwentarzowy;Rodzaj sprzętu;Producent;Model;Numer seryjny;Data nabycia;Wartość początkowa;"
        "Miejsce użytkowania;Źródło finansowania;Uwagi;Nośniki danych\n"
        "UM/IT/2018/0450;Laptop;Dell;Latitude 5490;7HBKLM2;12.11.2018;3 199,00;Wydział Księgowości, pok. 215;"
        "budżet miasta;Użytkownik: Łucja Żółkiewska;ssd:256:S3YJNX0K998877\n"
        "UM/IT/2018/0451;komputer stacjonarny;Lenovo;ThinkCentre M720s;MJ0ABC12;12.11.2018;2 870,40;"
        "Urząd Stanu Cywilnego, ul. Żeromskiego 7, Łódź;budżet miasta;;hdd:500:Z9A1B2C3\n"
        "UM/IT/2018/0452;telefon;Samsung;Galaxy A40;R58M12ABCDE;03.12.2018;899,00;"
        "Straż Miejska, ul. Księży Młyn 2, Łódź;środki UE;Służbowy, komendant;emmc:64:\n"
    ), encoding="cp1250", crlf=True)
    # A list from another program: UTF-8 without BOM, ",", LF, ISO dates, decimals with a comma in quotes.
    write_text("spis_utf8_przecinek.csv", (
        "Numer inwentarzowy,Rodzaj,Producent,Model,Numer seryjny,Data zakupu,Cena zakupu,Lokalizacja,Uwagi,Nośniki\n"
        'UM/IT/2022/0007,Laptop,HP,ProBook 450 G8,5CD1234ABC,2022-02-14,"2499,99","Biuro Rady Miasta, pok. 12",'
        "Żółta naklejka na klapie,nvme:512:S5H7NX0R445566\n"
        'UM/IT/2022/0008,Tablet,Lenovo,Tab P11,HA1XYZ98,2022-03-01,"1399,00",Biuro Prezydenta,,emmc:128:\n'
        'UM/IT/2022/0009,router / modem,TP-Link,Archer MR600,22153A0012345,2022-03-01,"459,90",'
        '"Filia biblioteki, ul. Łąkowa 3, Łódź",,\n'
    ))


def real_world_xlsx() -> None:
    # Dates as Excel dates, the warranty column as the bare serial numbers a pasted column leaves, prices
    # and one serial number as numbers, an empty row in the middle.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Spis sprzętu"
    sheet.append(["Numer inwentarzowy", "Rodzaj", "Producent", "Model", "Numer seryjny", "Data zakupu",
                  "Cena zakupu", "Gwarancja do", "Lokalizacja", "Uwagi", "Nośniki"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(["UM/IT/2019/0301", "Laptop", "Dell", "Latitude 5400", "3QK9BX2", datetime(2019, 5, 1), 3999,
                  excel_serial(date(2022, 5, 1)), "Wydział Edukacji, pok. 210", "Zażółć gęślą jaźń",
                  "ssd:256:S4EWNX0R111222"])
    sheet.append(["UM/IT/2019/0302", "komputer stacjonarny", "HP", "EliteDesk 800 G4", "CZC9012345",
                  datetime(2019, 6, 17), 2449.99, excel_serial(date(2022, 6, 17)), "Biuro Rady Miasta, pok. 12",
                  None, "hdd:1000:WD-WX11A2B3C4D5"])
    sheet.append([])  # row 4: empty
    sheet.append(["UM/IT/2020/0303", "Monitor", "Lenovo", "ThinkVision T24i", 20123456, datetime(2020, 2, 3),
                  749.5, excel_serial(date(2023, 2, 3)), "Sekretariat Prezydenta, pok. 3", None, None])
    for row in (2, 3, 5):
        sheet.cell(row=row, column=6).number_format = "DD.MM.YYYY"
        sheet.cell(row=row, column=7).number_format = "# ##0,00"
    save_reproducibly(workbook, "spis.xlsx")


def save_reproducibly(workbook: openpyxl.Workbook, name: str) -> None:
    """Save a workbook so that the same script gives the same bytes: openpyxl stamps the time of saving
    into the document's properties and into each ZIP entry; both are set to one fixed moment instead."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    moment = "2024-01-02T09:00:00Z"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + moment.encode(), data)
            fixed = zipfile.ZipInfo(entry.filename, date_time=(2024, 1, 2, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = entry.external_attr
            target.writestr(fixed, data)


def snipeit_csv() -> None:
    # Snipe-IT's asset export: its own English headers, "," and US numbers, the office's own data. The tests
    # register the supplier "Infolab Sp. z o.o." with contract ZP/271/15/2021 (signed 1.03.2021).
    write_text("snipeit_assets.csv", (
        "Company,Name,Asset Tag,Category,Supplier,Manufacturer,Location,Order Number,Model,Model Number,Serial,"
        "Purchase Date,Purchase Cost,Status,Notes,Warranty\n"
        'Urząd Miasta Łodzi,LAP-BRM-01,UMŁ/IT/2021/0001,Laptops,Infolab Sp. z o.o.,Lenovo,'
        '"Biuro Rady Miasta, pok. 12",ZP/271/15/2021,ThinkPad E14 Gen 2,20TA002MPB,PF2XK1L7,2021-03-15,"3,299.00",'
        'Deployed,"Radna Żaneta Łęcka, sesje rady",36 months\n'
        'Urząd Miasta Łodzi,MON-BRM-01,UMŁ/IT/2021/0002,Monitors,Infolab Sp. z o.o.,Dell,'
        '"Biuro Rady Miasta, pok. 12",ZP/271/15/2021,P2422H,DELL-P2422H,CN0ABC12,2021-03-15,"1,299.00",'
        "Ready to Deploy,,36\n"
        'Urząd Miasta Łodzi,TAB-SEK-01,UMŁ/IT/2021/0003,Tablets,,Samsung,"Sekretariat Prezydenta, pok. 3",,'
        "Galaxy Tab S6 Lite,SM-P610,R52R30ABCDE,2021-06-01,849.00,Deployed,Zażółć gęślą jaźń,24 months\n"
        'Urząd Miasta Łodzi,PC-WK-07,UMŁ/IT/2020/0107,Desktops,,HP,'
        '"Wydział Komunikacji, ul. Piotrkowska 104, Łódź",,'
        'ProDesk 400 G7,9ZB63EA,CZC0123ABC,2020-11-30,"2,450.50",Pending,,\n'
    ))


def bad_files() -> None:
    # A scanned invoice sent instead of the list, and a screenshot: refused by their first bytes.
    (HERE / "not_a_table.pdf").write_bytes(
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"% Numer inwentarzowy;Rodzaj;Producent\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    (HERE / "image.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xc8\x1e\x1e")) + chunk(b"IEND", b""))
    write_text("empty.csv", "")
    write_text("only_blank_lines.csv", "\n   \n;;;;\n\t\n\n", crlf=True)
    # The clothing list of the municipal guard, sent by mistake.
    write_text("header_matches_nothing.csv", "Kolor;Waga;Rozmiar\nczarny;2,1 kg;XL\ngranatowy;1,8 kg;L\n", crlf=True)

    header = "Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Lokalizacja\n"
    # UM/IT/2021/0001 twice (rows 2 and 5); the monitors of rows 3 and 4 share a serial number (case aside).
    write_text("duplicates_in_file.csv", header + (
        "UM/IT/2021/0001;Laptop;Dell;Latitude 3520;8BQ4XM3;10.05.2021;3 150,00;Biuro Rady Miasta, pok. 12\n"
        "UM/IT/2021/0002;Monitor;Dell;P2422H;CN0F1G2H;10.05.2021;1 020,00;Biuro Rady Miasta, pok. 12\n"
        "UM/IT/2021/0003;Monitor;Dell;P2422H;cn0f1g2h;10.05.2021;1 020,00;Biuro Rady Miasta, pok. 14\n"
        "UM/IT/2021/0001;Laptop;Dell;Latitude 3520;8BQ4XM4;10.05.2021;3 150,00;Biuro Rady Miasta, pok. 14\n"
    ), crlf=True)
    # The tests register the supplier NIP_REGISTERED with contract BRM/271/7/2020 only.
    write_text("unknown_contract.csv", (
        "Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Numer umowy;NIP dostawcy\n"
        f"UM/IT/2020/0500;Laptop;Lenovo;ThinkPad L14;PF2ABCDE;20.04.2020;3 899,00;BRM/271/7/2020;{NIP_REGISTERED}\n"
        f"UM/IT/2020/0501;Laptop;Lenovo;ThinkPad L14;PF2ABCDF;20.04.2020;3 899,00;BRM/271/8/2020;{NIP_REGISTERED}\n"
        "UM/IT/2020/0502;Laptop;Lenovo;ThinkPad L14;PF2ABCDG;20.04.2020;3 899,00;ZP/999/2020;\n"
    ), crlf=True)
    write_text("unknown_supplier.csv", (
        "Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Nr umowy;Dostawca\n"
        f"UM/IT/2020/0600;Monitor;HP;E24 G4;CNC1111AAA;20.04.2020;899,00;BRM/271/7/2020;{NIP_UNREGISTERED}\n"
        "UM/IT/2020/0601;Monitor;HP;E24 G4;CNC1111AAB;20.04.2020;899,00;BRM/271/7/2020;"
        "Hurtownia Komputerowa „Bałtyk” s.c.\n"
    ), crlf=True)
    # Suppliers by name rather than NIP. The tests register "Przedsiębiorstwo Informatyczne „Łódź” Sp. z o.o."
    # and "Infolab Sp. z o.o.", each with a contract BRM/271/7/2020. First the Łódź one, twice, exactly as
    # registered; then Infolab as one clerk typed it and as another copied it from the KRS, in capitals.
    header = "Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Nr umowy;Dostawca\n"
    write_text("supplier_by_name.csv", header + (
        "UM/IT/2020/0650;Monitor;HP;E24 G4;CNC2222AAA;20.04.2020;899,00;BRM/271/7/2020;"
        "Przedsiębiorstwo Informatyczne „Łódź” Sp. z o.o.\n"
        "UM/IT/2020/0651;Monitor;HP;E24 G4;CNC2222AAB;20.04.2020;899,00;BRM/271/7/2020;"
        "Przedsiębiorstwo Informatyczne „Łódź” Sp. z o.o.\n"
    ), crlf=True)
    write_text("supplier_name_case.csv", header + (
        "UM/IT/2020/0660;Monitor;HP;E24 G4;CNC3333AAA;20.04.2020;899,00;BRM/271/7/2020;Infolab Sp. z o.o.\n"
        "UM/IT/2020/0661;Monitor;HP;E24 G4;CNC3333AAB;20.04.2020;899,00;BRM/271/7/2020;INFOLAB SP. Z O.O.\n"
    ), crlf=True)
    # The registered supplier's NIP in two notations, as two clerks wrote it.
    write_text("supplier_nip_notations.csv", header + (
        f"UM/IT/2020/0670;Monitor;HP;E24 G4;CNC4444AAA;20.04.2020;899,00;BRM/271/7/2020;{NIP_REGISTERED}\n"
        "UM/IT/2020/0671;Monitor;HP;E24 G4;CNC4444AAB;20.04.2020;899,00;BRM/271/7/2020;"
        f"{NIP_REGISTERED.replace('-', '')}\n"
    ), crlf=True)
    # Rows 2 and 8 are right; row 3 has a day that does not exist, 4 a negative price, 5 a price in words,
    # 6 a kind the register does not know, 7 a disk whose capacity is a word.
    write_text("bledne_wartosci.csv", (
        "Numer inwentarzowy;Rodzaj;Producent;Model;Numer seryjny;Data zakupu;Cena zakupu;Lokalizacja;Nośniki\n"
        "UM/IT/2020/0700;Laptop;Dell;Latitude 5410;1AB2C3D;14.04.2020;3 499,00;Biuro Rady Miasta, pok. 12;"
        "ssd:256:S4EVNX0N700001\n"
        "UM/IT/2020/0701;Laptop;Dell;Latitude 5410;1AB2C3E;31.02.2020;3 499,00;Biuro Rady Miasta, pok. 12;\n"
        "UM/IT/2020/0702;Monitor;Dell;P2419H;CN0702;14.04.2020;-150,00;Biuro Rady Miasta, pok. 12;\n"
        "UM/IT/2020/0703;Monitor;Dell;P2419H;CN0703;14.04.2020;dużo;Biuro Rady Miasta, pok. 12;\n"
        "UM/IT/2020/0704;Drukarka 3D;Prusa;MK4;PR0704;14.04.2020;4 100,00;Pracownia, pok. 5;\n"
        "UM/IT/2020/0705;Laptop;Dell;Latitude 5410;1AB2C3F;14.04.2020;3 499,00;Biuro Rady Miasta, pok. 12;"
        "ssd:dużo:S4EVNX0N700005\n"
        "UM/IT/2020/0706;Tablet;Samsung;Galaxy Tab A8;R9ZT0706;14.04.2020;1 099,00;Sekretariat, pok. 1;emmc:64:\n"
    ), crlf=True)


if __name__ == "__main__":
    real_world_csv()
    real_world_xlsx()
    snipeit_csv()
    bad_files()
