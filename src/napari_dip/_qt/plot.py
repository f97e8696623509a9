"""A small live line plot drawn with QPainter (no plotting library needed).

Series go on a left axis (log scale by default, for losses) or a right axis
(linear, for PSNR in dB). Points are appended as they arrive; drawing is
decimated to the widget's width, so long runs stay cheap.
"""

from __future__ import annotations

import math

import numpy as np
from qtpy.QtCore import QPointF, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#4fa3e0", "#f0a030", "#5cc16a", "#e05a5a", "#b07ce0")


class _Series:
    def __init__(self, name: str, color: str, right: bool):
        self.name, self.color, self.right = name, color, right
        self.x: list[float] = []
        self.y: list[float] = []


class CurvePlot(QWidget):
    """Curves against iterations; ``log_left`` draws the left axis on a log scale."""

    def __init__(self, parent: QWidget | None = None, *, title: str = "", log_left: bool = True):
        super().__init__(parent)
        self.title = title
        self.log_left = log_left
        self.text_color = QColor("#c8c8c8")
        self.placeholder = "The loss appears here during a run."
        self._series: dict[str, _Series] = {}
        self._markers: dict[str, float] = {}
        self.setMinimumHeight(130)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(280, 150)

    def clear(self) -> None:
        self._series.clear()
        self._markers.clear()
        self.update()

    def set_marker(self, name: str, x: float | None) -> None:
        """Draw a labelled vertical line at iteration ``x`` (``None`` removes it)."""
        if x is None:
            self._markers.pop(name, None)
        else:
            self._markers[name] = float(x)
        self.update()

    def markers(self) -> dict[str, float]:
        """The vertical markers, by name."""
        return dict(self._markers)

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The points of a series (empty lists when it does not exist)."""
        s = self._series.get(name)
        return (list(s.x), list(s.y)) if s else ([], [])

    def add_points(self, name: str, x: list[float], y: list[float], *, right: bool = False) -> None:
        """Append points to the series ``name`` (created on first use); non-finite values are skipped."""
        if name not in self._series:
            self._series[name] = _Series(name, PALETTE[len(self._series) % len(PALETTE)], right)
        s = self._series[name]
        for xi, yi in zip(x, y, strict=True):
            if yi is not None and math.isfinite(yi) and (right or not self.log_left or yi > 0):
                s.x.append(float(xi))
                s.y.append(float(yi))
        self.update()

    # -- drawing -----------------------------------------------------------------------------
    def _range(self, right: bool) -> tuple[float, float] | None:
        values = [v for s in self._series.values() if s.right == right for v in s.y]
        if not values:
            return None
        low, high = min(values), max(values)
        if not right and self.log_left:
            low, high = math.log10(low), math.log10(high)
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        return low, high

    @staticmethod
    def _label(value: float, log: bool) -> str:
        value = 10**value if log else value
        return f"{value:.2g}" if log else f"{value:.1f}"

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        text_height = metrics.height()
        xs = [v for s in self._series.values() for v in s.x]
        left_range, right_range = self._range(False), self._range(True)
        margin_left = metrics.horizontalAdvance("0.00e-00") + 6
        margin_right = metrics.horizontalAdvance("00.0") + 8 if right_range else 8
        frame = QRectF(margin_left, text_height + 6, self.width() - margin_left - margin_right,
                       self.height() - 2 * text_height - 12)
        painter.setPen(QPen(self.text_color, 1))
        if not xs or frame.width() < 10 or frame.height() < 10:
            empty = QRectF(4, 4, self.width() - 8, self.height() - 8)
            painter.drawRect(empty)
            painter.drawText(empty.adjusted(8, 0, -8, 0), Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            painter.end()
            return
        painter.drawRect(frame)
        x_low, x_high = min(xs), max(max(xs), min(xs) + 1)
        self._draw_axes(painter, frame, (x_low, x_high), left_range, right_range)
        legend_x = frame.left() + 4
        for s in self._series.values():
            y_range = right_range if s.right else left_range
            log = self.log_left and not s.right
            self._draw_series(painter, frame, s, (x_low, x_high), y_range, log)
            painter.setPen(QPen(QColor(s.color), 2))
            painter.drawText(QPointF(legend_x, frame.top() - 4), s.name)
            legend_x += metrics.horizontalAdvance(s.name) + 12
        self._draw_markers(painter, frame, (x_low, x_high))
        painter.end()

    def _draw_markers(self, painter, frame, x_range) -> None:
        pen = QPen(self.text_color, 1, Qt.DashLine)
        for row, (name, x) in enumerate(sorted(self._markers.items(), key=lambda item: item[1])):
            px = frame.left() + (x - x_range[0]) / (x_range[1] - x_range[0]) * frame.width()
            if not frame.left() <= px <= frame.right():
                continue
            painter.setPen(pen)
            painter.drawLine(QPointF(px, frame.top()), QPointF(px, frame.bottom()))
            label = f"{name} {x:.0f}"
            width = painter.fontMetrics().horizontalAdvance(label)
            left = px + 3 if px + 3 + width <= frame.right() else px - 3 - width  # keep the label inside
            painter.drawText(QPointF(left, frame.top() + 12 * (row + 2)), label)

    def _draw_axes(self, painter, frame, x_range, left_range, right_range) -> None:
        painter.setPen(QPen(self.text_color, 1))
        bottom = frame.bottom() + painter.fontMetrics().ascent() + 3
        painter.drawText(QPointF(frame.left(), bottom), f"{x_range[0]:.0f}")
        end = f"{x_range[1]:.0f} it"
        painter.drawText(QPointF(frame.right() - painter.fontMetrics().horizontalAdvance(end), bottom), end)
        if self.title:
            width = painter.fontMetrics().horizontalAdvance(self.title)
            painter.drawText(QPointF(frame.center().x() - width / 2, bottom), self.title)
        for value_range, right in ((left_range, False), (right_range, True)):
            if value_range is None:
                continue
            log = self.log_left and not right
            for value, y in ((value_range[1], frame.top() + 9), (value_range[0], frame.bottom())):
                text = self._label(value, log)
                x = frame.right() + 3 if right else frame.left() - painter.fontMetrics().horizontalAdvance(text) - 3
                painter.drawText(QPointF(x, y), text)

    def _draw_series(self, painter, frame, s: _Series, x_range, y_range, log: bool) -> None:
        if not s.x or y_range is None:
            return
        x, y = np.asarray(s.x), np.asarray(s.y)
        if log:
            y = np.log10(y)
        step = max(1, len(x) // max(1, int(frame.width())))
        x, y = x[::step], y[::step]
        px = frame.left() + (x - x_range[0]) / (x_range[1] - x_range[0]) * frame.width()
        py = frame.bottom() - (y - y_range[0]) / (y_range[1] - y_range[0]) * frame.height()
        painter.setPen(QPen(QColor(s.color), 1.5))
        if len(px) == 1:
            painter.drawEllipse(QPointF(px[0], py[0]), 2, 2)
        else:
            painter.drawPolyline(QPolygonF([QPointF(a, b) for a, b in zip(px, py, strict=True)]))
