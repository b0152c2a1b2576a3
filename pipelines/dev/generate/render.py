"""Typed values -> cells as units really write them.

Every quirk here is *valid* input the pipeline must accept (sources.md, "Formats every source
accepts"): varied date forms, Excel date cells and serials, 是/否 and its cousins, ``2025年``,
IDs with a lower-case ``x``, full-width digits or stray blanks, amounts with thousands
separators. Each file gets its own dominant style (units are consistent within a file, mostly)
plus a minority of the others, drawn from the file's own random stream.

Cells come out per format: ``csv`` -> ``str`` ("" when empty); ``xlsx`` -> ``str``, ``int``,
``float``, ``bool``, ``datetime`` or ``None``; ``json`` -> JSON values or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts import Field

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Decimal fields written as money: thousands separators, two decimals.
MONEY_FIELDS = frozenset({"amount_wan"})
BOOL_STYLES: tuple[tuple[Any, Any], ...] = (("是", "否"), ("Y", "N"), ("1", "0"), ("true", "false"))
XLSX_BOOL_NATIVE = (True, False)
DATE_STYLES = {
    "csv": ("iso", "slash", "dot", "cn", "compact"),
    "xlsx": ("cell", "serial", "iso", "slash", "cn", "dot", "compact"),
    "json": ("iso", "slash", "cn", "compact"),
}
XLSX_DATE_FORMATS = ("yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "yyyy/m/d")


@dataclass(frozen=True)
class Raw:
    """A cell written verbatim, bypassing rendering (fault rows): str, number or None."""

    value: Any


def _mix(rng: np.random.Generator, n: int, k: int, dominant: int, share: float) -> np.ndarray:
    """Style index per row: ``dominant`` for about ``share`` of rows, the rest uniform."""
    style = rng.integers(0, k, n)
    style[rng.random(n) < share] = dominant
    return style


class Renderer:
    """Renders the columns of one file; all its randomness comes from the file's stream."""

    def __init__(self, fmt: str, rng: np.random.Generator, *, quirks: bool = True) -> None:
        self.fmt = fmt
        self.rng = rng
        self.quirks = quirks
        styles = DATE_STYLES[fmt]
        self.date_dominant = 0 if fmt != "csv" else int(rng.integers(0, len(styles)))
        self.bool_dominant = int(rng.integers(0, len(BOOL_STYLES)))
        self.year_suffix_share = float(rng.choice([0.0, 0.3, 0.9]))
        self.lower_x_share = float(rng.choice([0.0, 0.5, 1.0]))
        self.list_sep = "、" if rng.random() < 0.7 else ","
        self.xlsx_date_format = XLSX_DATE_FORMATS[int(rng.integers(0, len(XLSX_DATE_FORMATS)))]

    @property
    def empty(self) -> Any:
        return "" if self.fmt == "csv" else None

    def column(self, f: Field, values: pd.Series) -> np.ndarray:
        kind = f.type
        if kind == "id_number":
            return self.ids(values)
        if kind == "date":
            return self.dates(values)
        if kind == "year":
            return self.years(values)
        if kind == "int":
            return self.ints(values)
        if kind == "decimal":
            return self.decimals(values, money=f.name in MONEY_FIELDS)
        if kind == "bool":
            return self.bools(values)
        if kind == "code_list":
            return self.code_lists(values)
        return self.texts(values)

    # --- per type -----------------------------------------------------------------------
    def texts(self, values: pd.Series) -> np.ndarray:
        out = values.astype(object).to_numpy(copy=True)
        out[pd.isna(values).to_numpy()] = self.empty
        return out

    def ids(self, values: pd.Series) -> np.ndarray:
        """Valid ID quirks: lower-case x, full-width digits, stray blanks (each file has some)."""
        out = self.texts(values)
        if not self.quirks:
            return out
        n = out.size
        present = np.array([bool(v) for v in out], dtype=bool)
        ends_x = present & np.array([bool(v) and v.endswith("X") for v in out], dtype=bool)
        lower = ends_x & (self.rng.random(n) < self.lower_x_share)
        wide = present & (self.rng.random(n) < (0.004 if self.fmt != "json" else 0.0))
        blank = present & (self.rng.random(n) < 0.01)
        rows = np.flatnonzero(present)
        if rows.size >= 10:  # even a small file shows each quirk at least once
            picks = self.rng.choice(rows, size=2, replace=False)
            wide[picks[0]] = self.fmt != "json"
            blank[picks[1]] = True
        for i in np.flatnonzero(lower):
            out[i] = out[i][:-1] + "x"
        for i in np.flatnonzero(wide):
            out[i] = out[i].translate(FULLWIDTH)
        for i in np.flatnonzero(blank):
            out[i] = (" ", "", "  ")[i % 3] + out[i] + (" ", " ", "")[i % 3]
        return out

    def dates(self, values: pd.Series) -> np.ndarray:
        days = values.to_numpy().astype("datetime64[D]")
        missing = np.isnat(days)
        n = days.size
        out = np.full(n, self.empty, dtype=object)
        if n == 0:
            return out
        styles = DATE_STYLES[self.fmt]
        style = (_mix(self.rng, n, len(styles), self.date_dominant, 0.6) if self.quirks
                 else np.zeros(n, dtype=int))
        safe = np.where(missing, EXCEL_EPOCH, days)
        y = safe.astype("datetime64[Y]").astype(int) + 1970
        m = safe.astype("datetime64[M]").astype(int) % 12 + 1
        d = (safe - safe.astype("datetime64[M]")).astype(int) + 1
        serial = (safe - EXCEL_EPOCH).astype(int)
        for i in np.flatnonzero(~missing):
            s = styles[style[i]]
            yi, mi, di = int(y[i]), int(m[i]), int(d[i])
            if s == "iso":
                out[i] = f"{yi:04d}-{mi:02d}-{di:02d}"
            elif s == "slash":
                out[i] = f"{yi}/{mi}/{di}"
            elif s == "dot":
                out[i] = f"{yi}.{mi:02d}.{di:02d}"
            elif s == "cn":
                out[i] = f"{yi}年{mi}月{di}日"
            elif s == "compact":
                out[i] = f"{yi:04d}{mi:02d}{di:02d}"
            elif s == "cell":
                out[i] = datetime(yi, mi, di)
            else:  # serial: a date cell whose date format was lost
                out[i] = int(serial[i])
        return out

    def years(self, values: pd.Series) -> np.ndarray:
        """2025 or 2025年: text in CSV, a number cell or text in XLSX, a number in JSON."""
        out = np.full(len(values), self.empty, dtype=object)
        share = self.year_suffix_share if self.quirks and self.fmt != "json" else 0.0
        suffix = self.rng.random(len(values)) < share
        for i, v in enumerate(values.to_numpy(dtype=object, na_value=None)):
            if v is None:
                continue
            if suffix[i]:
                out[i] = f"{int(v)}年"
            else:
                out[i] = str(int(v)) if self.fmt == "csv" else int(v)
        return out

    def ints(self, values: pd.Series) -> np.ndarray:
        raw = values.to_numpy(dtype=object, na_value=None)
        if self.fmt == "csv":
            return np.array(["" if v is None else str(int(v)) for v in raw], dtype=object)
        return np.array([None if v is None else int(v) for v in raw], dtype=object)

    def decimals(self, values: pd.Series, *, money: bool) -> np.ndarray:
        raw = values.to_numpy(dtype=float)
        if self.fmt == "csv":
            if money:
                return np.array(["" if np.isnan(v) else f"{v:,.2f}" for v in raw], dtype=object)
            return np.array(["" if np.isnan(v) else _plain(v) for v in raw], dtype=object)
        return np.array([None if np.isnan(v) else round(float(v), 2) for v in raw], dtype=object)

    def bools(self, values: pd.Series) -> np.ndarray:
        raw = values.astype(object).to_numpy()
        n = raw.size
        if self.fmt == "json":
            return np.array([None if pd.isna(v) else bool(v) for v in raw], dtype=object)
        styles = BOOL_STYLES + ((XLSX_BOOL_NATIVE,) if self.fmt == "xlsx" else ())
        style = (_mix(self.rng, n, len(styles), self.bool_dominant, 0.7) if self.quirks
                 else np.zeros(n, dtype=int))
        return np.array([self.empty if pd.isna(v) else styles[s][0 if v else 1]
                         for v, s in zip(raw, style, strict=True)], dtype=object)

    def code_lists(self, values: pd.Series) -> np.ndarray:
        out = np.full(len(values), self.empty, dtype=object)
        for i, v in enumerate(values.astype(object).to_numpy()):
            if isinstance(v, (tuple, list)) and v:
                out[i] = list(v) if self.fmt == "json" else self.list_sep.join(v)
        return out


def _plain(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def raw_cell(value: Any, fmt: str) -> Any:
    """A ``Raw`` value as the given format stores it (CSV cells are text)."""
    if value is None:
        return "" if fmt == "csv" else None
    if fmt == "csv" and not isinstance(value, str):
        return str(value)
    return value
