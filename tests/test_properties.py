"""Property tests (hypothesis): the value parsers and the readers, on generated input.

- dates in every form the contract lists parse back to the date; years, booleans, amounts
  with thousands separators, IDs (valid ones pass, any one-digit change fails);
- a generated table written as CSV in each encoding and as XLSX reads back identical.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest import idcard, values
from pipelines.ingest.readers import read_table

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
dates = st.dates(min_value=date(1927, 6, 1), max_value=date(2100, 12, 31))


def _forms(d: date) -> list[str]:
    serial = (d - date(1899, 12, 30)).days
    return [d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d:%Y.%m.%d}",
            f"{d.year}年{d.month}月{d.day}日", f"{d:%Y%m%d}", str(serial), f"{d.isoformat()} 00:00:00",
            f" {d.year}-{d.month}-{d.day} "]


@FAST
@given(dates)
def test_every_date_form_parses_to_the_date(d: date) -> None:
    forms = _forms(d)
    stamp, bad = values.parse_dates(pd.Series(forms, dtype="str"))
    assert not bad.any()
    assert [s.date() for s in stamp] == [d] * len(forms)


@FAST
@given(st.integers(min_value=1949, max_value=2100), st.sampled_from(["", "年", "年度", ".0"]))
def test_years(year: int, suffix: str) -> None:
    typed, bad = values.parse_years(pd.Series([f"{year}{suffix}"], dtype="str"))
    assert (typed.iloc[0], bool(bad.iloc[0])) == (year, False)


@FAST
@given(st.sampled_from(sorted(values.TRUE_WORDS | values.FALSE_WORDS)),
       st.sampled_from([str.lower, str.upper, str.strip]))
def test_booleans(word: str, case) -> None:  # noqa: ANN001
    typed, bad = values.parse_bools(pd.Series([case(f" {word} ")], dtype="str"))
    assert not bad.iloc[0]
    assert typed.iloc[0] == (word in values.TRUE_WORDS)


@FAST
@given(st.decimals(min_value=-99_999_999_999, max_value=99_999_999_999, places=2,
                   allow_nan=False, allow_infinity=False))
def test_amounts_with_thousands_separators(amount) -> None:  # noqa: ANN001
    text = f"{amount:,.2f}"
    typed, bad = values.parse_decimals(pd.Series([text], dtype="str"))
    assert not bad.iloc[0]
    assert abs(typed.iloc[0] - float(amount)) < 1e-6


@FAST
@given(st.floats(min_value=1e14, max_value=1e300) | st.floats(max_value=-1e14, min_value=-1e300))
def test_amounts_the_warehouse_cannot_hold_are_bad(amount: float) -> None:
    typed, bad, beyond = values.decimals_with_bounds(pd.Series([f"{amount:.2f}"], dtype="str"))
    assert beyond.iloc[0] and not bad.iloc[0] and pd.isna(typed.iloc[0])


areas = st.sampled_from(["110105", "410103", "440305", "510107", "650102"])


@FAST
@given(areas, st.dates(min_value=date(1940, 1, 1), max_value=date(2005, 12, 31)),
       st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=16),
       st.integers(min_value=1, max_value=9))
def test_ids_valid_pass_and_one_changed_digit_fails(area: str, born: date, seq: int,
                                                     position: int, delta: int) -> None:
    ident = idcard.make(area, born, seq)
    forms = [ident, ident.lower(), " ".join(ident), ident.translate(
        str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))]
    normalised, reason = idcard.classify_ids(pd.Series(forms, dtype="str"))
    assert reason.isna().all() and list(normalised) == [ident] * 4
    changed = ident[:position] + str((int(ident[position]) + delta) % 10) + ident[position + 1:]
    _, reason = idcard.classify_ids(pd.Series([changed], dtype="str"))
    assert reason.iloc[0] in {"id_bad_checksum", "id_bad_birth", "id_excel_damaged"}


# ---- readers: a generated table reads back identical from CSV in every encoding and XLSX ---

HEADERS = ["身份证号", "姓名", "单位", "备注"]
cell_text = st.text(alphabet=st.sampled_from(list("甲乙丙丁干部科组织部abcXYZ0123456789 -—（）、，"
                                                  ",\"'\n")), min_size=1, max_size=12).map(
    str.strip).filter(lambda t: t != "" and not t.startswith(("=", "-", "+", "@")))
tables = st.lists(st.lists(cell_text, min_size=4, max_size=4), min_size=1, max_size=15)


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx_bytes(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _read(data: bytes, name: str) -> list[list[str]]:
    table = read_table(data, name, {"身份证号", "姓名", "单位", "备注"})
    assert list(table.frame.columns) == HEADERS
    return [[None if pd.isna(v) else v for v in row] for row in table.frame.values.tolist()]


@FAST
@given(tables)
def test_a_table_reads_back_identical_in_every_encoding_and_xlsx(rows: list[list[str]]) -> None:
    expected = [[c.replace("\r\n", "\n") for c in row] for row in rows]
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        assert _read(_csv_bytes(rows, encoding), "t.csv") == expected, encoding
    assert _read(_xlsx_bytes(rows), "t.xlsx") == expected
