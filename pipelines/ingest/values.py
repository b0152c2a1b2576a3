"""Vectorised parsers for the value forms units write (sources.md, "Formats every source accepts").

Each function takes a column of text (pandas ``str`` with NA for empty) and returns the typed
column plus a boolean mask of cells that were present but could not be read. Whole columns at
a time: a 300,000-row assessment file must not pay a Python call per cell.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# 2025-03-05, 2025/3/5, 2025.03.05, 2025年3月5日, optionally followed by a time (xlsx dates)
_YMD = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # ASCII only, so pandas hands it to pyarrow
_SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (with its 1900 leap-year quirk)
SERIAL_RANGE = (10000, 80000)  # 1927-05-18 .. 2119-01-08: anything else is not a date serial

TRUE_WORDS = {"是", "y", "yes", "1", "true", "t", "√", "对"}
FALSE_WORDS = {"否", "n", "no", "0", "false", "f", "×", "不是"}

_SPLIT_CODES = re.compile(r"[、,，;；/]")


def clean_text(raw: pd.Series) -> pd.Series:
    """Trim blanks (incl. full-width space); empty becomes NA."""
    text = raw.astype("str").str.replace("\u3000", " ").str.strip()
    return text.where(raw.notna() & (text != ""))


# Python's ``\s`` (str.isspace) spelled out as a class: pandas runs a pattern without ``\s``
# through pyarrow's RE2 over the whole column, and one with it through Python's ``re`` cell by
# cell (RE2's own ``\s`` misses some of these). Same matches, several times faster.
SPACE_RUN = ("[\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
             "\u205f\u3000]+")


def nfkc(text: pd.Series) -> pd.Series:
    """``text.str.normalize("NFKC")``, with the ASCII cells left as they are.

    pandas normalises a pyarrow string column in Python, cell by cell (pyarrow's own NFKC does
    not compose); NFKC leaves ASCII text unchanged, and most cells units send (numbers, dates,
    IDs) are ASCII, so only the others are normalised."""
    other = ~text.str.isascii().fillna(True).astype(bool)
    if not other.any():
        return text
    return text.mask(other, text[other].str.normalize("NFKC"))


def _nfkc(text: pd.Series) -> pd.Series:
    return nfkc(text).str.replace(SPACE_RUN, "", regex=True)


# What the warehouse can store and a cadre's record can mean: dates within these years,
# DECIMAL(18, 4) amounts (below 1e14 in absolute value), counts a float holds exactly. A value
# beyond them is a row issue (value_out_of_bounds) found here, so a load never fails on a cast.
DATE_BOUNDS = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31"))
DECIMAL_BOUND = 1e14  # DECIMAL(18, 4): 14 digits before the point
INT_BOUND = 1e15
NUMBER_TEXT_LIMIT = 40  # characters: longer is no number a unit typed (and slow to convert)
BOUNDS_ZH = {"date": "1900-01-01～2100-12-31", "decimal": "绝对值小于 100000000000000",
             "int": "绝对值小于 1000000000000000"}


def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    stamp, bad, beyond = dates_with_bounds(raw)
    return stamp, bad | beyond


def dates_with_bounds(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(dates, unreadable, readable but outside DATE_BOUNDS); out-of-bounds cells are NA."""
    text = clean_text(raw)
    present = text.notna()
    norm = nfkc(text.fillna("")).str.strip()
    parts = _date_parts(norm)
    stamp = pd.to_datetime(
        {"year": pd.to_numeric(parts["y"], errors="coerce"),
         "month": pd.to_numeric(parts["m"], errors="coerce"),
         "day": pd.to_numeric(parts["d"], errors="coerce")},
        errors="coerce",
    )
    candidates = present & stamp.isna()  # the serial pattern runs on what is left only
    serial_like = candidates & norm.where(candidates, "").str.match(_SERIAL.pattern)
    if serial_like.any():
        days = pd.to_numeric(norm[serial_like], errors="coerce")
        in_range = days.between(*SERIAL_RANGE)
        stamp.loc[days.index[in_range]] = EXCEL_EPOCH + pd.to_timedelta(days[in_range], unit="D")
    beyond = stamp.notna() & ~stamp.between(*DATE_BOUNDS)
    stamp = stamp.mask(beyond).astype("datetime64[s]")
    return stamp, present & stamp.isna() & ~beyond, beyond


def _date_parts(norm: pd.Series) -> pd.DataFrame:
    """Year, month and day text of each cell (NA where no form fits), as ``_YMD`` then
    ``_COMPACT`` extract them. Cells already in ISO form (most of them) are sliced: the ASCII
    pattern that finds them runs in pyarrow over the whole column, whereas ``_YMD`` (``\\d``,
    CJK separators) makes pandas run Python's ``re`` cell by cell; on ISO text both give the
    same parts, and every other cell still goes through ``_YMD`` and ``_COMPACT``."""
    iso = norm.str.match(_ISO_DAY)
    parts = pd.DataFrame({"y": norm.str.slice(0, 4), "m": norm.str.slice(5, 7),
                          "d": norm.str.slice(8, 10)}).where(iso)
    rest = norm[~iso]
    if len(rest):
        other = rest.str.extract(_YMD.pattern).fillna(rest.str.extract(_COMPACT.pattern))
        parts.loc[rest.index, ["y", "m", "d"]] = other[["y", "m", "d"]].to_numpy()
    return parts


def parse_years(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = clean_text(raw)
    present = text.notna()
    digits = _nfkc(text.fillna("")).str.extract(r"^(\d{4})(?:\.0+)?(?:年度?)?$")[0]
    year = pd.to_numeric(digits, errors="coerce").astype("Int64")
    year = year.where(year.between(1949, 2100))
    return year, present & year.isna()


def _numbers(raw: pd.Series, bound: float) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(numbers, unreadable, readable but at or beyond ``bound`` in absolute value)."""
    text = clean_text(raw)
    present = text.notna()
    norm = _nfkc(text.fillna("")).str.replace(",", "", regex=False)
    shaped = norm.str.match(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
    too_long = shaped & (norm.str.len() > NUMBER_TEXT_LIMIT)
    number = pd.to_numeric(norm.where(shaped & ~too_long), errors="coerce").astype("float64")
    beyond = too_long | (number.notna() & (number.abs() >= bound))
    number = number.mask(beyond)
    return number, present & number.isna() & ~beyond, beyond


def parse_ints(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    whole, bad, beyond = ints_with_bounds(raw)
    return whole, bad | beyond


def ints_with_bounds(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    number, bad, beyond = _numbers(raw, INT_BOUND)
    fractional = number.notna() & (np.floor(number) != number)
    whole = number.where(~fractional).astype("Float64").astype("Int64")
    return whole, bad | fractional, beyond


def parse_decimals(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    number, bad, beyond = decimals_with_bounds(raw)
    return number, bad | beyond


def decimals_with_bounds(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    return _numbers(raw, DECIMAL_BOUND)


def parse_bools(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = clean_text(raw)
    present = text.notna()
    key = _nfkc(text.fillna("")).str.lower()
    value = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    value[key.isin(TRUE_WORDS)] = True
    value[key.isin(FALSE_WORDS)] = False
    return value, present & value.isna()


def parse_codes(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A single code: trimmed, full-width forms folded. Membership is GX's job."""
    text = clean_text(raw)
    return _nfkc(text.fillna("")).where(text.notna()), pd.Series(False, index=raw.index)


def parse_code_lists(raw: pd.Series, codes: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """``房产、投资`` -> ["房产", "投资"]; a list with an unknown code is bad as a whole."""
    text = clean_text(raw)
    allowed = set(codes)
    values: list[object] = []
    bad: list[bool] = []
    for cell in text:
        if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
            values.append(None)
            bad.append(False)
            continue
        items = [i.strip() for i in _SPLIT_CODES.split(str(cell)) if i.strip()]
        values.append(items)
        bad.append(not items or any(i not in allowed for i in items))
    return pd.Series(values, index=raw.index, dtype="object"), pd.Series(bad, index=raw.index)
