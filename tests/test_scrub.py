"""Name scrubbing of the analysts' snapshot: the Aho-Corasick scrubber hides exactly what the
longest-first regular expression it replaced hid (DuckDB's ``regexp_replace`` is the oracle),
names whole, longest first, and keeps nulls, order and repeats in a column chunk."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.publish.scrub import NAME_MARK, NameScrubber

MARK = "[姓名已隐去]"


def _regex_oracle(names: list[str], texts: list[str | None]) -> list[str | None]:
    """What publish did before: one alternation of every name of 2+ characters, longest
    first, applied with DuckDB's regexp_replace (RE2, leftmost-first among alternatives)."""
    kept = sorted({n for n in names if len(n) >= 2}, key=lambda n: (-len(n), n))
    if not kept:
        return texts
    pattern = "|".join(re.escape(n) for n in kept)
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(
            "select regexp_replace(t, $p, $m, 'g') from unnest($texts) with ordinality u(t, i) "
            "order by i", {"p": pattern, "m": MARK, "texts": texts}).fetchall()]


def test_the_marker_is_the_one_analysts_know() -> None:
    assert NAME_MARK == MARK  # docs/access.md and docs/rules.md name it


def test_a_name_inside_a_longer_name_is_hidden_whole() -> None:
    s = NameScrubber(["王明", "王明华", "欧阳", "欧阳明"])
    assert s.scrub("王明华与王明共同决定") == f"{MARK}与{MARK}共同决定"
    assert s.scrub("欧阳明、欧阳和王明华") == f"{MARK}、{MARK}和{MARK}"
    assert s.scrub("欧阳明") != f"{MARK}明"  # not 欧阳 + 明


def test_overlapping_names_take_the_leftmost_then_the_longest() -> None:
    # 阳明 starts inside 欧阳明: the name starting first is hidden whole, as the regex did
    s = NameScrubber(["欧阳明", "阳明"])
    assert s.scrub("欧阳明说阳明也在") == f"{MARK}说{MARK}也在"
    texts = ["欧阳明华", "王明华明", "欧阳明阳明华", "阳明华欧阳明"]
    names = ["欧阳明", "阳明华", "明华", "王明", "华明"]
    assert [NameScrubber(names).scrub(t) for t in texts] == _regex_oracle(names, texts)


def test_cases_longest_match_libraries_have_got_wrong() -> None:
    """Occurrences reached through a failure link, or a longer name that fails late: cases a
    library's own longest-match mode has missed (a missed match is a name shown)."""
    cases = [(["知识产权", "国家知识产权局"], "国家知识产权", f"国家{MARK}"),
             (["bc", "abcdefg"], "abcdefx", f"a{MARK}defx"),
             (["ab", "abcabd"], "zzabcabdzz", f"zz{MARK}zz"),
             (["王明", "王明华"], "王明王明华王", f"{MARK}{MARK}王")]
    for names, text, expected in cases:
        assert NameScrubber(names).scrub(text) == expected == _regex_oracle(names, [text])[0]


def test_one_character_names_are_left_alone_and_no_names_hide_nothing() -> None:
    assert NameScrubber(["明", "王明"]).scrub("明天王明来") == f"明天{MARK}来"
    assert NameScrubber([]).scrub("王明") == "王明"
    assert NameScrubber(["王明"]).scrub(None) is None


def test_the_arrow_form_keeps_nulls_order_and_repeats() -> None:
    s = NameScrubber(["王明", "赵敏"])
    chunk = pa.chunked_array([["王明来了", None, "无", "王明来了", "赵敏与王明"], ["", None]])
    out = s.scrub_arrow(chunk)
    assert out.to_pylist() == [f"{MARK}来了", None, "无", f"{MARK}来了", f"{MARK}与{MARK}",
                               "", None]
    assert out.type == pa.string()


# Names and texts from a few characters, so that names overlap, nest and repeat often.
_chars = st.sampled_from("欧阳明华王李甲乙")
_names = st.lists(st.text(_chars, min_size=1, max_size=4), max_size=8)
_texts = st.lists(st.one_of(st.none(), st.text(st.sampled_from("欧阳明华王李甲乙，与"),
                                                max_size=16)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_names, _texts)
def test_the_scrubber_hides_exactly_what_the_regex_hid(names: list[str],
                                                        texts: list[str | None]) -> None:
    scrubber = NameScrubber(names)
    assert [scrubber.scrub(t) for t in texts] == _regex_oracle(names, texts)
    assert scrubber.scrub_arrow(pa.array(texts, pa.string())).to_pylist() == \
        _regex_oracle(names, texts)


def test_publish_sql_scrubs_ids_then_names_in_text_and_list_columns() -> None:
    """The select list publish copies a table with, on a real DuckDB connection: the names
    come from the roster (``name``, ``known_names``) and the facts (``fact_name``)."""
    from pipelines.publish.snapshot import _register_scrub, _select_list

    id_number = "110101197001010011"
    with duckdb.connect() as con:
        con.execute("attach ':memory:' as wh")
        con.execute("create schema wh.core")
        con.execute("create table wh.core.cadre as select '王明华' as name, "
                    "['王明华', '王明'] as known_names")
        con.execute("create table wh.core.fact as select '欧阳明' as fact_name")
        con.execute("create table wh.core.note (remark varchar, items varchar[], rule_id varchar)")
        con.execute("insert into wh.core.note values (?, ?, '王明'), (null, null, null)",
                    [f"王明华（{id_number}）与王明、欧阳明", ["王明华名下", None, "房产"]])
        _register_scrub(con, "wh", date(2026, 6, 30))
        columns = [("remark", "VARCHAR", None), ("items", "VARCHAR[]", None),
                   ("rule_id", "VARCHAR", None)]  # rule_id: a code column, copied as is
        rows = con.execute(f"select {_select_list(columns)} from wh.core.note as t "
                           "order by remark nulls last").fetchall()
    assert rows == [(f"{MARK}（[身份证号已隐去]）与{MARK}、{MARK}", [f"{MARK}名下", None, "房产"],
                     "王明"), (None, None, None)]


# --- IDs and exact dates (RE2 in DuckDB, before the names) -----------------------------------

ID = "[身份证号已隐去]"
DAY = "[日期已隐去]"
LAST_YEAR = 2010  # the last birth year on 2026-06-30, the as-of date of the tests' builds
FULL_WIDTH = {**{ord(d): 0xFF10 + int(d) for d in "0123456789"}, ord("-"): "－", ord("/"): "／",
              ord("."): "．", ord(" "): "\u3000"}


def _scrubbed(texts: list[str | None], last_year: int = LAST_YEAR) -> list[str | None]:
    """``texts`` through the SQL publish scrubs free text with (no names: none registered)."""
    from pipelines.publish.snapshot import scrub_sql

    with duckdb.connect() as con:
        return [r[0] for r in con.execute(
            f"select {scrub_sql('t', False, last_year)} from unnest($texts) "
            "with ordinality u(t, i) order by i", {"texts": texts}).fetchall()]


def test_the_marks_are_the_ones_analysts_know() -> None:
    from pipelines.publish.scrub import DATE_MARK, ID_MARK, last_birth_year

    assert (ID_MARK, DATE_MARK) == (ID, DAY)  # docs/access.md names them
    assert last_birth_year(date(2026, 6, 30)) == LAST_YEAR
    assert last_birth_year(date(1910, 1, 1)) == 1900  # never before the contracts' first year


# The forms an audit found for 360281198103194838, and more the contracts let units write.
HIDDEN = [
    ("360281198103194838", ID), ("36028119810319483X", ID), ("36028119810319483x", ID),
    ("ID 360281 19810319 4838", f"ID {ID}"), ("连字符360281-19810319-4838", f"连字符{ID}"),
    ("360281 - 19810319 - 4838。", f"{ID}。"), ("360281-19810319-483X", ID),
    ("360281\u300019810319\u30004838", ID), ("360281－19810319－4838", ID),
    ("360281 198103194838", ID), ("旧证360281810319483", f"旧证{ID}"),
    ("ID360281810319483号", f"ID{ID}号"),
    ("360281810319483,360281810319483 360281810319483", f"{ID},{ID} {ID}"),
    ("当事人出生于1981年3月19日，1981-03-19", f"当事人出生于{DAY}，{DAY}"),
    ("生日19810319", f"生日{DAY}"), ("1981/3/19", DAY), ("1981.03.19", DAY),
    ("1981年03月19号", DAY), ("1981 年 3 月 19 日", DAY), ("1981-3月19日", DAY),
    ("19810319 19820401 19830501", f"{DAY} {DAY} {DAY}"),
    ("1981-03-19 19820401,19830501", f"{DAY} {DAY},{DAY}"),
    ("1900-01-01、2010-12-31", f"{DAY}、{DAY}"),
    ("1981年3月19日5时", f"{DAY}日5时"),  # 日 then a digit: the day ends before 日
]
HIDDEN += [(text.translate(FULL_WIDTH), expected.translate(FULL_WIDTH)) for text, expected in HIDDEN]
# Ordinary numbers analysts need, and dates no cadre was born on.
KEPT = ["涉及金额12.5万元、3600万元、123456789.00元", "赣组字〔2025〕12号", "问题编号2025-INS-0001",
        "电话13800138000", "手机 138 0013 8000", "2024年3月5日发现", "2024-03-05", "20240305",
        "2011-01-01", "1899-12-31", "1981年3月入党", "2005.01-2008.12任职", "1990-1995年",
        "1981-13-01", "1981-02-32", "19811319", "第1981031号", "1234567890123456",
        "12345678901234", "20190101-20191231", "2019年", None, ""]


def test_ids_and_birth_dates_in_every_form_are_hidden() -> None:
    texts = [text for text, _ in HIDDEN]
    assert _scrubbed(texts) == [expected for _, expected in HIDDEN]


def test_ordinary_numbers_and_recent_dates_stay() -> None:
    texts = KEPT + [t.translate(FULL_WIDTH) for t in KEPT if t]
    assert _scrubbed(texts) == texts


def test_the_cut_off_is_the_last_birth_year_for_any_as_of_date() -> None:
    """The years 1900..last year are spelled out in RE2 (``_number_range``): every cut-off
    hides exactly its years, whatever its digits."""
    for last_year in (1900, 1909, 1990, 1999, 2000, 2009, 2010, 2011, 2019, 2099, 2100):
        years = range(1890, last_year + 12)
        got = _scrubbed([f"{y}-06-15" for y in years], last_year)
        assert [g == DAY for g in got] == [1900 <= y <= last_year for y in years], last_year


# An oracle with lookaround (Python's re), scanning left to right with each match hidden
# before the search goes on (a hidden ID or date counts as no digit), dates found on the text
# with ASCII digits: what the RE2 patterns, their captured boundaries and second passes do.
_D = "[0-9０-９]"
_GAP = "[-\u2010-\u2015\u2212\uff0d \t\u00a0\u2000-\u200a\u202f\u3000]{0,3}"
_ORACLE_ID = re.compile(f"{_D}{{17}}[0-9０-９XxＸｘ]|(?<!{_D})(?:{_D}{{6}}{_GAP}{_D}{{8}}{_GAP}"
                        f"{_D}{{3}}[0-9０-９XxＸｘ]|{_D}{{15}})(?!{_D})")
_ASCII = {0xFF10 + d: ord(str(d)) for d in range(10)} | {ord("－"): "-", ord("／"): "/",
                                                         ord("．"): "."}


def _oracle_dates(last_year: int) -> re.Pattern[str]:
    year = "(?:" + "|".join(str(y) for y in range(1900, last_year + 1)) + ")"
    b = "[ \u3000]*"
    return re.compile(
        f"(?<![0-9]){year}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])"
        f"|(?<![0-9]){year}{b}[-/.年]{b}(?:1[0-2]|0?[1-9]){b}[-/.月]{b}(?:3[01]|[12][0-9]|0?[1-9])"
        f"(?:{b}[日号])?(?![0-9])")


def _hide(pattern: re.Pattern[str], mark: str, text: str, ascii_digits: bool) -> str:
    pos = 0
    while match := pattern.search(text.translate(_ASCII) if ascii_digits else text, pos):
        text = text[:match.start()] + mark + text[match.end():]  # same length when ASCII
        pos = match.start() + len(mark)
    return text


def _oracle(text: str | None, last_year: int = LAST_YEAR) -> str | None:
    if text is None:
        return None
    return _hide(_oracle_dates(last_year), DAY, _hide(_ORACLE_ID, ID, text, False), True)


def _id_forms(born: str) -> st.SearchStrategy[str]:
    full = f"360281{born}483"
    return st.sampled_from([full + "8", full + "X", f"360281 {born} 4838", f"360281-{born}-4838",
                            f"360281 - {born}\u30004838", f"360281{born[2:]}483"])


_fragments = st.one_of(
    st.sampled_from(["19810319", "20240305", "19811319", "19000101"]).flatmap(_id_forms),
    st.builds(lambda y, m, d, form: form.format(y=y, m=m, d=d),
              st.sampled_from([1899, 1900, 1981, 2010, 2011, 2024]),
              st.sampled_from([1, 3, 10, 12, 13]), st.sampled_from([1, 9, 19, 29, 31, 32]),
              st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m:02d}.{d:02d}",
                               "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}年{m}月", "{y}.{m}"])),
    st.text("0123456789", min_size=1, max_size=20),
    st.sampled_from([" ", ",", "，", "-", "；", "年", "月", "日", "号", "X", "a", "\u3000", ".",
                     "/", "万元"]),
)
_free_text = st.lists(st.tuples(_fragments, st.booleans()), max_size=8).map(
    lambda parts: "".join(p.translate(FULL_WIDTH) if wide else p for p, wide in parts))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), _free_text), min_size=1, max_size=6))
def test_the_sql_hides_what_an_oracle_with_lookaround_hides(texts: list[str | None]) -> None:
    """Adjacent numbers (one character apart, the case the second passes exist for), numbers
    inside longer ones, full-width digits, dates of every form: the same result."""
    assert _scrubbed(texts) == [_oracle(t) for t in texts]
