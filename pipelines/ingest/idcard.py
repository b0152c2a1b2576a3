"""Resident ID numbers (身份证号, GB 11643-1999): normalising and checking.

Units send IDs with full-width digits, blanks, a lower-case ``x``, and sometimes as a number
Excel has already rounded (``4.10105E+17``). The last kind has lost digits for good and must be
refused with a clear reason, never "repaired". Both the scalar helpers (generator, CLI) and the
vectorised ``classify_ids`` (parser, on whole columns) live here.

The first six digits must be a real administrative code of GB/T 2260, retired codes included
(sources.md). The code list is python-stdnum's (``cn/loc``, the one its ``cn.ric`` reads); its
further rule that the code must have existed at the birth date is not applied: the code is
that of the place of issue, which may be assigned later.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
from stdnum import numdb

from pipelines.ingest import values

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_EXCEL_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$|^\d{1,17}\.\d+$")
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The mod-11 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(raw: object) -> str:
    """Full-width to half-width, blanks removed, ``x`` upper-cased. No other repair."""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(text.split()).upper()


# sources.md: the birth date inside an ID fits a serving cadre: not before 1900, not in the
# future, at least 16 years before the data's date (the day the file was received).
EARLIEST_BIRTH = date(1900, 1, 1)
MIN_AGE_YEARS = 16


def latest_birth(as_of: date | None = None) -> date:
    """The latest birth date an ID may carry in data of ``as_of`` (default today): the same
    day ``MIN_AGE_YEARS`` years before (28 February for a 29 February)."""
    as_of = as_of or date.today()
    try:
        return as_of.replace(year=as_of.year - MIN_AGE_YEARS)
    except ValueError:
        return as_of.replace(year=as_of.year - MIN_AGE_YEARS, day=28)


def problem(raw: object, as_of: date | None = None) -> str | None:
    """The reason code for what is wrong with an ID, or None when it is valid."""
    text = normalize(raw)
    if _EXCEL_NUMBER.match(text):
        return "id_excel_mangled"
    if not _SHAPE.match(text):
        return "id_bad_format"
    if check_digit(text[:17]) != text[17]:
        return "id_bad_checksum"
    born = birth_date(text)
    if born is None or not EARLIEST_BIRTH <= born <= latest_birth(as_of):
        return "id_bad_birth"
    if not area_known(text[:6]):
        return "id_bad_area"
    return None


@cache
def area_known(code: str) -> bool:
    """Whether a six-digit code is a county-level code of GB/T 2260 (current or retired)."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def birth_date(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def make(area: str, born: date, sequence: int) -> str:
    """A valid ID from a 6-digit area code, a birth date and a 3-digit sequence."""
    first17 = f"{area}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def classify_ids(raw: pd.Series, as_of: date | None = None) -> tuple[pd.Series, pd.Series]:
    """Vectorised ``normalize`` + ``problem`` for a column of text, in data of ``as_of``.

    Returns (normalised IDs, reason code or NA per row). Missing values give NA in both: the
    required-value check, not this one, speaks about them.
    """
    text = values.nfkc(raw.astype("str")).str.replace(values.SPACE_RUN, "", regex=True).str.upper()
    text = text.where(raw.notna())
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")
    present = text.notna() & (text != "")
    mangled = present & text.str.match(_EXCEL_NUMBER.pattern).fillna(False).astype(bool)
    shaped = present & ~mangled & text.str.match(_SHAPE.pattern).fillna(False).astype(bool)
    reason[mangled] = "id_excel_mangled"
    reason[present & ~mangled & ~shaped] = "id_bad_format"
    if shaped.any():
        ids = text[shaped]
        bad_check = ids.index[_check_fails(ids)]
        reason[bad_check] = "id_bad_checksum"
        # 18 digits ending 000 after 15 significant ones: Excel saved a number-formatted
        # column (it keeps 15 digits); when the check digit then fails, say so
        damaged = bad_check[ids[bad_check].str.endswith("000").to_numpy()]
        reason[damaged] = "id_excel_damaged"
        births = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
        unfit = births.isna() | (births < pd.Timestamp(EARLIEST_BIRTH)) | \
            (births > pd.Timestamp(latest_birth(as_of)))
        reason[births.index[unfit & ~births.index.isin(bad_check)]] = "id_bad_birth"
        # each distinct area code looked up once (a file holds a few hundred at most)
        areas = ids.str[:6]
        unknown = areas.map({a: not area_known(a) for a in areas.unique()}).astype(bool)
        reason[unknown.index[unknown.to_numpy() & reason[unknown.index].isna().to_numpy()]] = \
            "id_bad_area"
    return text, reason


def _check_fails(ids: pd.Series) -> np.ndarray:
    """Per ID of the ``_SHAPE`` form, whether its check character is wrong. ASCII IDs (all but
    a unit's odd non-Latin digits) are read as one block of bytes, 18 a row, instead of 18
    string slices of the column."""
    if ids.str.isascii().all():
        block = np.frombuffer("".join(ids.tolist()).encode("ascii"), dtype=np.uint8)
        block = block.reshape(len(ids), 18)
        total = (block[:, :17].astype(np.int64) - ord("0")) @ np.array(WEIGHTS)
        return np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)[total % 11] \
            != block[:, 17]
    digits = np.stack([ids.str[i].astype(int).to_numpy() for i in range(17)], axis=1)
    checks = np.array(list(CHECK_CHARS))[(digits @ np.array(WEIGHTS)) % 11]
    return checks != ids.str[17].to_numpy()


# A genuine ID ends in 000 about once in a thousand (two sequence digits and the check digit).
# A column in which so many do that genuine IDs would give that many less than once in
# DAMAGED_COLUMN_ODDS files was saved by Excel as numbers. (A share of the column, the former
# test, let a column with 15 of 100 IDs ending in 000 through, and loaded those of them whose
# damaged digits happened to pass the check: another person's ID, or nobody's.)
GENUINE_000 = 1 / 1000
DAMAGED_COLUMN_MIN = 2
DAMAGED_COLUMN_ODDS = 10_000


def _chance_of_at_least(count: int, n: int, share: float = GENUINE_000) -> float:
    """P(X >= count) for X ~ Binomial(n, share): summed upward from ``count`` while its terms
    still matter (past the mean they shrink faster than geometrically)."""
    log_share, log_rest = math.log(share), math.log1p(-share)
    total = 0.0
    for k in range(count, n + 1):
        term = math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * log_share + (n - k) * log_rest)
        total += term
        if term <= total * 1e-12:
            break
    return total


def damaged_column(ids: pd.Series) -> int:
    """How many IDs of a column end in ``000`` when that many mean Excel damaged the whole
    column (sources.md: the file is refused), else 0. ``ids`` are normalised IDs or NA."""
    present = ids.dropna()
    present = present[present.str.fullmatch(r"\d{18}").fillna(False).astype(bool)]
    ending = int(present.str.endswith("000").sum())
    if ending < DAMAGED_COLUMN_MIN or ending <= GENUINE_000 * len(present):
        return 0
    if _chance_of_at_least(ending, len(present)) < 1 / DAMAGED_COLUMN_ODDS:
        return ending
    return 0
