"""Charts of the reports: bars (inventory, forecast) and lines (wipes and faults per month), as PNG.

One drawing serves both the page (an <img> of the PNG) and the PDF (the same PNG placed on the page), so
a printout shows what the screen showed. Drawn with matplotlib's Agg canvas, without pyplot: no display,
no global figure state shared between requests. The labels use the DejaVu Sans the PDFs embed, which
has every Polish letter.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from core.pdf import _FONT_DIR

__all__ = ["bar_chart", "line_chart", "data_uri"]

_FONT = FontProperties(fname=_FONT_DIR / "DejaVuSans.ttf")
_FONT_BOLD = FontProperties(fname=_FONT_DIR / "DejaVuSans-Bold.ttf")
# Colour-blind safe (Okabe and Ito), in the order series are drawn.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 3.6, 150


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontproperties=_FONT_BOLD, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _finish(figure: Figure, axes, *, ylabel: str, legend: bool, integer: bool, highest: float = 0.0) -> bytes:
    if ylabel:
        axes.set_ylabel(ylabel, fontproperties=_FONT, fontsize=9)
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontproperties(_FONT)
        label.set_fontsize(8)
    # Counts and money start at zero; a chart of nothing but zeros still shows a scale from 0 to 1
    # (matplotlib would centre it on zero, with negative ticks).
    axes.set_ylim(bottom=0, top=None if highest > 0 else 1)
    if integer:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if legend:
        # Below the chart, outside the plot: a legend inside it hides bars and lines wherever it goes.
        handles, labels = axes.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", prop=_FONT.copy(), frameon=False,
                      ncols=min(4, len(labels)))
        for text in figure.legends[-1].get_texts():
            text.set_fontproperties(_FONT)
            text.set_fontsize(8)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def bar_chart(*, title: str, categories: Sequence[str], series: dict[str, Sequence[float]], ylabel: str = "",
              stacked: bool = True, integer: bool = True) -> bytes:
    """Bars per category, one colour per series (stacked, or side by side); the PNG's bytes.

    With no categories the chart still draws, empty, with its title, so a page never lacks its picture.
    """
    figure, axes = _figure(title)
    positions = list(range(len(categories)))
    names = list(series)
    width = 0.8 if stacked or len(names) <= 1 else 0.8 / len(names)
    bottom = [0.0] * len(categories)
    highest = 0.0
    for index, name in enumerate(names):
        values = [float(v or 0) for v in series[name]]
        highest = max([highest, *values, *(b + v for b, v in zip(bottom, values))])
        if stacked:
            axes.bar(positions, values, 0.8, bottom=bottom, label=name, color=PALETTE[index % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, values)]
        else:
            offset = (index - (len(names) - 1) / 2) * width
            axes.bar([p + offset for p in positions], values, width, label=name, color=PALETTE[index % len(PALETTE)])
    turned = len(categories) > 8 or max((len(str(c)) for c in categories), default=0) > 12
    axes.set_xticks(positions, [str(c) for c in categories], rotation=30 if turned else 0,
                    ha="right" if turned else "center", rotation_mode="anchor")
    return _finish(figure, axes, ylabel=ylabel, legend=len(names) > 1, integer=integer, highest=highest)


def line_chart(*, title: str, x: Sequence[str], series: dict[str, Sequence[float]], ylabel: str = "",
               integer: bool = True) -> bytes:
    """One line per series over the labels of `x` (months, for example); the PNG's bytes."""
    figure, axes = _figure(title)
    positions = list(range(len(x)))
    highest = 0.0
    for index, (name, values) in enumerate(series.items()):
        values = [float(v or 0) for v in values]
        highest = max([highest, *values])
        axes.plot(positions, values, marker="o", markersize=3, linewidth=1.6, label=name,
                  color=PALETTE[index % len(PALETTE)])
    step = max(1, len(x) // 12)
    axes.set_xticks(positions[::step], [str(label) for label in x][::step], rotation=30 if len(x) > 6 else 0,
                    ha="right" if len(x) > 6 else "center", rotation_mode="anchor")
    return _finish(figure, axes, ylabel=ylabel, legend=len(series) > 1, integer=integer, highest=highest)


def data_uri(png: bytes) -> str:
    """The PNG as a data: URI for an <img> on a page (no second request, no file to keep)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
