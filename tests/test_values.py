"""Value forms units write: dates, years, numbers, booleans, code lists, ID numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipelines.ingest import idcard, values


def _one(parser, text):  # noqa: ANN001, ANN202
    typed, bad = parser(pd.Series([text], dtype="str"))
    return typed.iloc[0], bool(bad.iloc[0])


@pytest.mark.parametrize("text", ["2025-03-05", "2025/3/5", "2025.03.05", "2025年3月5日", "20250305",
                                  "45721", "2025-03-05 00:00:00", "２０２５年３月５日", " 2025-3-5 "])
def test_every_date_form(text: str) -> None:
    stamp, bad = _one(values.parse_dates, text)
    assert (pd.Timestamp(stamp).date(), bad) == (date(2025, 3, 5), False)


@pytest.mark.parametrize("text", ["2025-02-30", "3月5日", "abc", "99999", "2025-13-01"])
def test_impossible_dates_are_bad_not_guessed(text: str) -> None:
    stamp, bad = _one(values.parse_dates, text)
    assert pd.isna(stamp) and bad


def test_a_mixed_date_column_reads_each_cell_as_it_reads_alone() -> None:
    """ISO cells take a fast path (sliced), the others the full patterns: one column mixing
    them must give, cell by cell, what each cell gives on its own."""
    cells = ["2025-03-05", "2025/3/5", None, "2025年3月5日", "2025-02-30", "20250305", "45721",
             "", "1899-12-31", "2025-03-05 00:00:00", "２０２５-０３-０５", "2101-01-01", "abc",
             "2025-3-05", "12345", "2000-01-01"]
    stamp, bad, beyond = values.dates_with_bounds(pd.Series(cells, dtype="str"))
    for n, cell in enumerate(cells):
        one = values.dates_with_bounds(pd.Series([cell], dtype="str"))
        alone = one[0].iloc[0]
        assert (pd.isna(stamp.iloc[n]) and pd.isna(alone)) or stamp.iloc[n] == alone, cell
        assert (bool(bad.iloc[n]), bool(beyond.iloc[n])) == \
            (bool(one[1].iloc[0]), bool(one[2].iloc[0])), cell
    assert stamp.notna().sum() == 10  # 12345 is a date serial (1933-10-18)


def test_empty_is_missing_not_bad() -> None:
    for parser in (values.parse_dates, values.parse_years, values.parse_ints,
                   values.parse_decimals, values.parse_bools):
        typed, bad = parser(pd.Series([None, "", "  "], dtype="str"))
        assert typed.isna().all() and not bad.any()


@pytest.mark.parametrize(("text", "year"), [("2025", 2025), ("2025年", 2025), ("2025年度", 2025)])
def test_years(text: str, year: int) -> None:
    assert _one(values.parse_years, text) == (year, False)


def test_numbers_with_separators_and_fractions() -> None:
    assert _one(values.parse_decimals, "1,250.50") == (1250.5, False)
    assert _one(values.parse_ints, "1,200") == (1200, False)
    assert _one(values.parse_ints, "1.5")[1] is True
    assert _one(values.parse_decimals, "约100")[1] is True


@pytest.mark.parametrize(("text", "value"), [("是", True), ("否", False), ("Y", True), ("n", False),
                                             ("1", True), ("0", False), ("true", True),
                                             ("FALSE", False)])
def test_booleans(text: str, value: bool) -> None:
    assert _one(values.parse_bools, text) == (value, False)


def test_code_lists_split_on_both_separators_and_reject_unknown_items() -> None:
    typed, bad = values.parse_code_lists(pd.Series(["房产、投资", "房产,婚姻", "房产、飞机"]),
                                         ("房产", "投资", "婚姻"))
    assert typed.tolist() == [["房产", "投资"], ["房产", "婚姻"], ["房产", "飞机"]]
    assert bad.tolist() == [False, False, True]


def test_id_check_digit_known_value() -> None:
    # GB 11643-1999 worked example: 11010519491231002 -> check character X
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.problem("11010519491231002x") is None


def test_vectorised_and_scalar_id_checks_agree() -> None:
    samples = ["11010519491231002X", "110105194912310020", "4.10105E+17", "1101051949123100",
               "110105194902300025", " １１０１０５１９４９１２３１００２ｘ ",
               idcard.make("110105", date(1899, 12, 31), 1),  # born before 1900
               idcard.make("110105", date(2020, 1, 1), 2),  # not 16 years before the data
               idcard.make("000000", date(1980, 1, 1), 3),  # no such area code
               idcard.make("110103", date(1990, 1, 1), 4)]  # 崇文区, retired in 2010: still real
    normalised, reasons = idcard.classify_ids(pd.Series(samples, dtype="str"))
    for raw, norm, reason in zip(samples, normalised, reasons, strict=True):
        assert norm == idcard.normalize(raw)
        assert (None if pd.isna(reason) else reason) == idcard.problem(raw)
    assert list(reasons[-4:-1]) == ["id_bad_birth", "id_bad_birth", "id_bad_area"]
    assert pd.isna(reasons.iloc[-1])  # a retired code is the place of issue all the same


def test_area_codes_are_gb_t_2260_county_codes_current_or_retired() -> None:
    assert idcard.area_known("110105")  # 朝阳区
    assert idcard.area_known("110110")  # 燕山区, until 1986
    assert idcard.area_known("110112")  # 通州区, since 1997 (an ID born earlier may carry it)
    assert not idcard.area_known("000000")
    assert idcard.problem(idcard.make("110112", date(1960, 5, 1), 7)) is None
