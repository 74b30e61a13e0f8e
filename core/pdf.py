"""The PDF toolkit every app issues its documents with: a Unicode font, the page frame and the QR code.

The 14 base PDF fonts have no ą, ę, ł, ś, ż, so DejaVu Sans (shipped in core/fonts, Bitstream Vera
licence) is embedded in every document.
"""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.pathobject import PDFPathObject
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FONT_DIR = Path(__file__).resolve().parent / "fonts"


class _Font(TTFont):
    """DejaVu Sans that remembers the widths of the strings it measured. Laying out a page measures every
    word of every cell several times (the table's column and row sizes, the split at a page's foot, the
    drawing) and, without reportlab's C accelerator, a width is a pure-Python sum over the characters;
    the documents of one kind measure the same labels and words again and again."""

    _limit = 200_000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._widths: dict[tuple[str, float, str], float] = {}

    def stringWidth(self, text, size, encoding="utf8"):
        key = (text, size, encoding)
        width = self._widths.get(key)
        if width is None:
            width = super().stringWidth(text, size, encoding)
            if len(self._widths) >= self._limit:
                self._widths.clear()
            self._widths[key] = width
        return width


def register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(_Font(FONT, _FONT_DIR / "DejaVuSans.ttf"))
        pdfmetrics.registerFont(_Font(FONT_BOLD, _FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def format_date(value: date | datetime | None) -> str:
    """DD.MM.YYYY (with HH:MM for moments, in the office's time zone); a dash for no value."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def format_pln(value: Decimal | None) -> str:
    """Money as Polish offices print it: 12 345,67 zł."""
    if value is None:
        return "—"
    nbsp = "\u00a0"
    whole, _sep, cents = f"{value:,.2f}".partition(".")
    return f"{whole.replace(',', nbsp)},{cents}{nbsp}zł"


register_fonts()  # before any Paragraph is made: reportlab resolves a style's font when it builds one

# Page streams deflated only, not also ASCII85-encoded as reportlab does by default (for 7-bit channels no
# PDF travels through now): the same pages, a little smaller, and a protocol ~3 ms cheaper to write.
rl_config.useA85 = 0

STYLES = {
    "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=4 * mm),
    # A section heading never ends a page alone: it goes over with what follows it.
    "h2": ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=5 * mm, spaceAfter=2 * mm,
                         keepWithNext=1),
    "h3": ParagraphStyle("h3", fontName=FONT_BOLD, fontSize=9, leading=12, spaceBefore=3 * mm, spaceAfter=1.5 * mm,
                         keepWithNext=1),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
    # A sentence that introduces what follows it: never left alone at the foot of a page.
    "lead": ParagraphStyle("lead", fontName=FONT, fontSize=9, leading=12, keepWithNext=1, spaceAfter=2 * mm),
    "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.5),
    # A sentence under a table, with room between them.
    "note": ParagraphStyle("note", fontName=FONT, fontSize=7.5, leading=9.5, spaceBefore=1.5 * mm),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10),
    "cell_bold": ParagraphStyle("cell_bold", fontName=FONT_BOLD, fontSize=8, leading=10),
    "cell_right": ParagraphStyle("cell_right", fontName=FONT, fontSize=8, leading=10, alignment=TA_RIGHT),
    "cell_bold_right": ParagraphStyle("cell_bold_right", fontName=FONT_BOLD, fontSize=8, leading=10,
                                      alignment=TA_RIGHT),
    "sign_bold": ParagraphStyle("sign_bold", fontName=FONT_BOLD, fontSize=8, leading=10, alignment=TA_CENTER),
    "sign_small": ParagraphStyle("sign_small", fontName=FONT, fontSize=7.5, leading=9.5, alignment=TA_CENTER),
}

FULL_WIDTH = 170 * mm - 12  # A4 standing, less the 20 mm margins of render() and the frame's 6 pt paddings
LABEL_WIDTH = 55 * mm


class _Paragraph(Paragraph):
    """A paragraph that breaks its lines once per width. A table wraps each cell to size its rows, again
    to draw it and again where it splits at a page's foot, always at the column's width; the lines are
    the same each time (a paragraph's wrap depends on the width alone), and breaking them is most of the
    cost of laying out a protocol."""

    def wrap(self, availWidth, availHeight):
        if getattr(self, "_wrapped_at", None) == availWidth:
            return self.width, self.height
        size = super().wrap(availWidth, availHeight)
        self._wrapped_at = availWidth if availWidth >= 1e-8 else None
        return size

    def split(self, availWidth, availHeight):
        self._wrapped_at = None  # splitting may change what the paragraph holds: wrap afresh after it
        return super().split(availWidth, availHeight)


def para(text: object, style: str = "cell") -> Paragraph:
    """A paragraph with the text escaped, so a device note with '<' or '&' cannot break the layout."""
    from xml.sax.saxutils import escape

    return _Paragraph(escape(str(text)).replace("\n", "<br/>"), STYLES[style])


def key_value_table(rows: list[tuple[str, object]]) -> Table:
    data = [[para(label, "cell_bold"), para(value)] for label, value in rows]
    table = Table(data, colWidths=[55 * mm, 115 * mm])
    table.setStyle(_grid_style(header=False))
    return table


def grid_table(header: list[str], rows: list[list[object]], col_widths: list[float]) -> Table:
    data = [[para(h, "cell_bold") for h in header]] + [[para(c) for c in row] for row in rows]
    table = Table(data, colWidths=col_widths, repeatRows=1)
    table.setStyle(_grid_style(header=True))
    return table


def h2(text: object) -> Paragraph:
    return para(text, "h2")


def h3(text: object) -> Paragraph:
    return para(text, "h3")


def cell(value: object) -> Flowable:
    """A table cell: a flowable as it is, anything else as escaped text, a dash for no value."""
    return value if isinstance(value, Flowable) else para(or_dash(value))


def kv_table(rows: list[tuple[str, object]]) -> Table:
    """key_value_table across the full width, on the left margin, with values that may be flowables already."""
    table = Table([[para(label, "cell_bold"), cell(value)] for label, value in rows],
                  colWidths=[LABEL_WIDTH, FULL_WIDTH - LABEL_WIDTH], hAlign="LEFT")
    table.setStyle(_grid_style(header=False))
    return table


def grid(header: list[str], rows: list[list[object]], widths: list[float], *, total: bool = False,
         right: tuple[int, ...] = ()) -> Table:
    """grid_table (header repeated on every page) with cells that may be flowables already. With `total`,
    the last row is a sum set in bold, its empty cells left empty; the columns in `right` (figures) are
    aligned right. A table narrower than the page sits on the left margin, under its heading."""

    def make(value: object, column: int, *, bold: bool, dash: bool) -> Flowable:
        if isinstance(value, Flowable):
            return value
        style = ("cell_bold" if bold else "cell") + ("_right" if column in right else "")
        return para(or_dash(value) if dash else ("" if value is None else value), style)

    data = [[make(h, c, bold=True, dash=False) for c, h in enumerate(header)]]
    for index, row in enumerate(rows):
        last = total and index == len(rows) - 1
        data.append([make(value, c, bold=last, dash=not last) for c, value in enumerate(row)])
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(_grid_style(header=True))
    return table


def rest_widths(*widths: float, full: float = FULL_WIDTH) -> list[float]:
    """The given column widths and a last column taking what is left of the full width."""
    return [*widths, full - sum(widths)]


def signatures(slots: list[tuple[str, str]], *, lead: list[Flowable] = ()) -> KeepTogether:
    """The signature block, two places to a row: room to sign above a line, the role and the name below.

    `lead` (the closing statement) stays on the same page as the signatures, so they are never signed alone.
    """
    gap = 20 * mm
    column = (FULL_WIDTH - gap) / 2
    data, heights, commands = [], [], [("VALIGN", (0, 0), (-1, -1), "TOP")]
    for start in range(0, len(slots), 2):
        pair = list(slots[start:start + 2])
        row = len(data)
        data += [["", "", ""],
                 [para(pair[0][0], "sign_bold"), "", para(pair[1][0], "sign_bold") if len(pair) > 1 else ""],
                 [para(pair[0][1], "sign_small"), "", para(pair[1][1], "sign_small") if len(pair) > 1 else ""]]
        heights += [20 * mm, None, None]
        commands.append(("LINEABOVE", (0, row + 1), (0, row + 1), 0.6, "black"))
        if len(pair) > 1:
            commands.append(("LINEABOVE", (2, row + 1), (2, row + 1), 0.6, "black"))
    table = Table(data, colWidths=[column, gap, column], rowHeights=heights)
    table.setStyle(TableStyle(commands))
    return KeepTogether([*lead, Spacer(1, 6 * mm), table])


def _grid_style(*, header: bool) -> TableStyle:
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    return TableStyle(commands)


@dataclass(frozen=True)
class Stamp:
    """What every page carries so that a printout can be checked: the code and where to check it."""

    code: str
    verify_url: str
    issued_at: datetime
    issuer: str


def person(user) -> str:
    """How a user is named on a document: full name, else username; a dash for nobody."""
    return (user.get_full_name() or user.get_username()) if user else "—"


def or_dash(value: object) -> str:
    """A value for a table cell, or a dash when there is none."""
    text = "" if value is None else str(value).strip()
    return text or "—"


def organization() -> str:
    """The issuing office as a party to a document: its name, and its address when it is configured."""
    address = settings.ORGANIZATION_ADDRESS.strip()
    return f"{settings.ORGANIZATION_NAME}, {address}" if address else settings.ORGANIZATION_NAME


_FINDER_LIKE = np.array([True, False, True, True, True, False, True, False, False, False, False])


def _runs_penalty(lines: np.ndarray) -> int:
    """Rule 1 of the mask penalty along each line: a run of five or more modules of one colour costs its
    length less two."""
    count, width = lines.shape
    change = np.ones((count, width + 1), dtype=bool)
    change[:, 1:width] = lines[:, 1:] != lines[:, :-1]
    bounds = np.flatnonzero(change)
    line, column = np.divmod(bounds, width + 1)
    lengths = np.diff(column)[line[1:] == line[:-1]]
    return int((lengths[lengths >= 5] - 2).sum())


def _lost_point(modules: list[list[bool]]) -> int:
    """reportlab's QRUtil.getLostPoint, computed on arrays: the same penalty for the same modules (which
    counts the finder-like pattern along rows only, and not at a row's last possible place), so the same
    mask is chosen and the code drawn is the same; the pure-Python original cost a protocol ~10 ms."""
    m = np.array(modules, dtype=bool)
    size = m.shape[0]
    lost = _runs_penalty(m.T) + _runs_penalty(m)
    corner = m[1:, 1:]
    lost += 3 * int((
        (corner == m[1:, :-1]) & (corner == m[:-1, 1:]) & (corner == m[:-1, :-1])).sum())
    if size - len(_FINDER_LIKE) > 0:
        windows = np.lib.stride_tricks.sliding_window_view(m, len(_FINDER_LIKE), axis=1)[:, :size - len(_FINDER_LIKE)]
        lost += 40 * int((windows == _FINDER_LIKE).all(axis=2).sum())
    lost += 10 * (abs(100 * int(m.sum()) // (size * size) - 50) // 5)
    return lost


class _QRCode(qrencoder.QRCode):
    """reportlab's QR code, choosing among its eight masks exactly as reportlab does, with _lost_point."""

    def getBestMaskPattern(self) -> int:
        best, pattern = 0, 0
        for mask in range(8):
            self.makeImpl(True, mask)
            lost = _lost_point(self.modules)
            if mask == 0 or best > lost:
                best, pattern = lost, mask
        return pattern


def _qr_modules(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of `text`, error correction level M."""
    code = _QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    return [[bool(module) for module in row] for row in code.modules]


def _qr_path(modules: list[list[bool]], page_width: float) -> PDFPathObject:
    """The QR code as one path of its dark runs: one drawing operation per page, not one per module. Built
    once per document (its coordinates formatted once) and drawn on every page."""
    size, border = 24 * mm, 4
    box = size / (len(modules) + 2 * border)
    left, top = page_width - 20 * mm - size, 6 * mm + size
    path = PDFPathObject()
    for r, row in enumerate(modules):
        c = 0
        for dark, run in itertools.groupby(row):
            count = len(list(run))
            if dark:
                path.rect(left + (c + border) * box, top - (r + border + 1) * box, count * box, box)
            c += count
    return path


def render(*, title: str, story: list, stamp: Stamp, pagesize: tuple[float, float] = A4) -> bytes:
    """Lay out `story` on A4 pages (standing, or `landscape(A4)` for wide tables) with the organisation's
    header and the verification footer."""
    register_fonts()
    buffer = io.BytesIO()
    page_width, page_height = pagesize
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=22 * mm,
        bottomMargin=34 * mm,
        title=title,
        author=settings.ORGANIZATION_NAME,
        creator="sprzet-gminy",
    )

    qr = _qr_path(_qr_modules(stamp.verify_url), page_width)  # once per document, drawn on every page

    def on_page(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(20 * mm, page_height - 12 * mm, settings.ORGANIZATION_NAME)
        canvas.drawRightString(page_width - 20 * mm, page_height - 12 * mm, title)
        canvas.drawPath(qr, fill=1, stroke=0)
        canvas.setFont(FONT, 7.5)
        lines = [
            (_("Issued %(when)s by %(issuer)s.") if stamp.issuer else _("Issued %(when)s."))
            % {"when": format_date(stamp.issued_at), "issuer": stamp.issuer},
            _("Verification code: %(code)s") % {"code": stamp.code},
            _("Check that this document is genuine at %(url)s") % {"url": stamp.verify_url},
            _("Page %(page)d") % {"page": document.page},
        ]
        for index, line in enumerate(lines):
            canvas.drawString(20 * mm, 24 * mm - index * 4 * mm, line)
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
