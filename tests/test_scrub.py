"""Name scrubbing of the analysts' snapshot: the Aho-Corasick scrubber hides exactly what the
longest-first regular expression it replaced hid (DuckDB's ``regexp_replace`` is the oracle),
names whole, longest first, and keeps nulls, order and repeats in a column chunk."""

from __future__ import annotations

import re

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
    from pipelines.publish.snapshot import _register_scrubber, _select_list

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
        assert _register_scrubber(con)
        columns = [("remark", "VARCHAR", None), ("items", "VARCHAR[]", None),
                   ("rule_id", "VARCHAR", None)]  # rule_id: a code column, copied as is
        rows = con.execute(f"select {_select_list(columns, True)} from wh.core.note as t "
                           "order by remark nulls last").fetchall()
    assert rows == [(f"{MARK}（[身份证号已隐去]）与{MARK}、{MARK}", [f"{MARK}名下", None, "房产"],
                     "王明"), (None, None, None)]
