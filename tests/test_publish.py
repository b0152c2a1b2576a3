"""The analysts' snapshot: no 身份证号 in clear text, keyed pseudonyms, comments, atomic swap."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.build.steps import build
from pipelines.publish import carry, snapshot
from pipelines.publish.snapshot import DICTIONARY_NAME, cadre_key, pseudonym_key, publish
from pipelines.review.decisions import Decision, add_decider, record_decision, sync_flags
from pipelines.settings import DataHome
from pipelines.warehouse import writer
from tests.build_fixtures import Scenario, new_id
from tests.test_rules import I1, assess, audit, finding

pytestmark = pytest.mark.integration

AS_OF = date(2026, 6, 30)


@pytest.fixture
def published(home: DataHome, tmp_path: Path) -> tuple[DataHome, list[str]]:
    s = Scenario()
    a, b, stranger = s.cadre("赵敏"), s.cadre("钱进"), new_id()
    assess(s, a, 2025, "不称职")
    finding(s, b, **I1)
    s.rows["inspection_finding"][-1]["description"] = f"与{a}（赵敏）共同决策，未履行职责"
    audit(s, stranger, category="违规决策")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    publish(home)
    return home, [a, b, stranger]


def test_record_keys_are_scrubbed_as_the_whole_scrub_scrubs_them(
        published: tuple[DataHome, list[str]]) -> None:
    """Record keys hide the row's own 身份证号 by a plain replace before the scrub (a speed-up,
    snapshot.RECORD_KEY_COLUMNS): what analysts get must be exactly what the whole scrub alone
    gives, cell by cell, and the keys tested must hold IDs."""
    home, _ = published
    con = duckdb.connect()
    try:
        con.execute(f"attach '{home.review_snapshot_file}' as review (read_only)")
        con.execute(f"attach '{home.published_file}' as snap (read_only)")
        snapshot._register_scrub(con, "review", snapshot._ages_on(con, "review"))
        snapshot._register_flag_key(con, pseudonym_key(home))
        facts = con.execute(
            "select count(*) filter (where contains(r.record_key, r.id_number)), "
            "count(*) filter (where scrub_text(r.record_key) is distinct from a.record_key) "
            "from review.core.fact as r join snap.core.fact as a using (evidence_id)"
        ).fetchone()
        flags = con.execute(
            "select count(*) filter (where list_bool_or(list_transform(r.evidence_keys, "
            "lambda k: contains(k, r.id_number)))), count(*) filter (where list_transform("
            "r.evidence_keys, lambda k: scrub_text(k)) is distinct from a.evidence_keys) "
            "from review.decisions.flag_state as r "
            "join snap.decisions.flag_state as a on a.flag_id = flag_key(r.flag_id)"
        ).fetchone()
    finally:
        con.close()
    assert facts[0] > 0 and facts[1] == 0
    assert flags[0] > 0 and flags[1] == 0


def _all_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = []
        for schema, table in con.execute("select schema_name, table_name from duckdb_tables()"
                                         ).fetchall():
            for row in con.execute(f"select * from {schema}.{table}").fetchall():
                parts.append(repr(row))
        return "\n".join(parts)
    finally:
        con.close()


def test_snapshot_holds_no_id_number_in_clear_text(
        published: tuple[DataHome, list[str]]) -> None:
    home, ids = published
    text = _all_text(home.published_file)
    raw = home.published_file.read_bytes()
    for id_number in ids:
        assert id_number not in text
        assert id_number.encode() not in raw
    assert "[身份证号已隐去]" in text  # the ID inside the finding's description was scrubbed
    con = duckdb.connect(str(home.published_file), read_only=True)
    names = {r[0] for r in con.execute("select column_name from duckdb_columns()").fetchall()}
    con.close()
    assert "id_number" not in names and "birth_date" not in names and "cadre_key" in names


def test_cadre_key_is_a_keyed_hash_with_the_key_outside(
        published: tuple[DataHome, list[str]]) -> None:
    home, ids = published
    key = pseudonym_key(home)
    key_file = home.keys / "pseudonym.key"
    assert key_file.exists() and home.published_dir not in key_file.parents
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    con = duckdb.connect(str(home.published_file), read_only=True)
    keys = {r[0] for r in con.execute("select cadre_key from marts.cadre_profile").fetchall()}
    flagged = {r[0] for r in con.execute("select cadre_key from marts.candidate").fetchall()}
    con.close()
    expected = "K" + hmac.new(key, ids[0].encode(), hashlib.sha256).hexdigest()[:20]
    assert cadre_key(ids[0], key) == expected and expected in keys and expected in flagged
    assert "K" + hashlib.sha256(ids[0].encode()).hexdigest()[:20] not in keys  # not unkeyed


def test_configured_key_changes_every_pseudonym(published: tuple[DataHome, list[str]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    home, ids = published
    before = cadre_key(ids[0], pseudonym_key(home))
    monkeypatch.setenv("CADRE_PSEUDONYM_KEY", "jurisdiction-secret")
    publish(home)
    con = duckdb.connect(str(home.published_file), read_only=True)
    keys = {r[0] for r in con.execute("select cadre_key from marts.cadre_profile").fetchall()}
    con.close()
    assert before not in keys and cadre_key(ids[0], b"jurisdiction-secret") in keys


@pytest.mark.parametrize("key", [b"jurisdiction-secret", b"k" * 64, b"x" * 65, "密钥".encode(),
                                 b"", bytes(range(256))])
def test_the_sql_pseudonym_is_the_python_one_for_any_key(key: bytes) -> None:
    """publish computes cadre_key in SQL (DuckDB's sha256 over the HMAC pads); it must be
    ``hmac`` itself, for keys shorter, as long as and longer than SHA-256's 64-byte block."""
    from pipelines.publish.snapshot import _hmac_pads, cadre_key_sql

    ids = [new_id(), new_id(), "11000000000000001X", "甲乙", ""]
    ipad, opad = _hmac_pads(key)
    with duckdb.connect() as con:
        got = [r[0] for r in con.execute(
            f"select {cadre_key_sql('i')} from unnest($ids) with ordinality u(i, n) order by n",
            {"ids": ids, "ipad": ipad, "opad": opad}).fetchall()]
    assert got == [cadre_key(i, key) for i in ids]


def test_tables_and_columns_are_documented(published: tuple[DataHome, list[str]]) -> None:
    home, _ = published
    con = duckdb.connect(str(home.published_file), read_only=True)
    undocumented = con.execute("select schema_name || '.' || table_name from duckdb_tables() "
                               "where comment is null or comment = ''").fetchall()
    bare = con.execute("select table_name || '.' || column_name from duckdb_columns() where "
                       "schema_name = 'marts' and (comment is null or comment = '')").fetchall()
    con.close()
    assert not undocumented and not bare
    page = (home.published_dir / DICTIONARY_NAME).read_text(encoding="utf-8")
    assert "## marts.cadre_profile" in page and "| cadre_key |" in page
    assert "Profile score of 德 (virtue) for the period: the base minus the deductions" in page


def test_swap_is_atomic_and_read_only(published: tuple[DataHome, list[str]]) -> None:
    home, _ = published
    reader = duckdb.connect(str(home.published_file), read_only=True)
    first = reader.execute("select published_at from snapshot_info").fetchone()[0]
    publish(home)  # while an analyst's connection is open on the old file
    assert reader.execute("select published_at from snapshot_info").fetchone()[0] == first
    assert reader.execute("select count(*) from marts.cadre_profile").fetchone()[0] > 0
    reader.close()
    fresh = duckdb.connect(str(home.published_file), read_only=True)
    assert fresh.execute("select published_at from snapshot_info").fetchone()[0] >= first
    assert fresh.execute("select as_of_dates from snapshot_info").fetchone()[0] == [AS_OF]
    fresh.close()
    assert not [p for p in home.published_dir.iterdir() if p.name.endswith(".tmp")]
    assert not home.published_file.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_snapshot_is_readable_while_the_warehouse_is_being_written(
        published: tuple[DataHome, list[str]]) -> None:
    home, _ = published
    writer = duckdb.connect(str(home.warehouse_file))  # e.g. a load in progress
    try:
        reader = duckdb.connect(str(home.published_file), read_only=True)
        assert reader.execute("select count(*) from marts.candidate").fetchone()[0] == 2
        reader.close()
    finally:
        writer.close()


def test_decision_log_and_ledger_views_reach_analysts_pseudonymised(
        published: tuple[DataHome, list[str]]) -> None:
    home, ids = published
    con = duckdb.connect(str(home.published_file), read_only=True)
    try:
        objects = {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        ledger_columns = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'decisions' "
            "and table_name = 'decision_log'").fetchall()}
    finally:
        con.close()
    assert {"decisions.decision_log", "decisions.ledger_summary", "decisions.flag_state",
            "followup.reappointment"} <= objects
    # the register's input (names, evidence keys) stays in the warehouse: flag_state is its
    # outcome, marts.cadre_flag the build's flags
    assert "marts.cadre_flag" in objects and "marts.flag_raised" not in objects
    assert "cadre_key" in ledger_columns and "id_number" not in ledger_columns


def test_names_are_hidden_whole_wherever_free_text_holds_them(
        home: DataHome, tmp_path: Path) -> None:
    """Nested and overlapping names (王明 in 王明华, 阳明 in 欧阳明) are hidden whole, in a
    finding's description that names other cadres than its own, and in a table with no cadre
    column at all (the rule set's jurisdiction, free text from a file nobody vets for names)."""
    s = Scenario()
    ids = {name: s.cadre(name) for name in ("王明", "王明华", "欧阳明", "阳明")}
    finding(s, ids["王明"], **I1)
    s.rows["inspection_finding"][-1]["description"] = "王明华与王明、欧阳明共同决定，阳明知情"
    s.load(home, tmp_path / "drops")
    rules = Path(__file__).resolve().parents[1] / "warehouse" / "rules"
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text((rules / "ruleset.yaml").read_text(encoding="utf-8")
                       .replace("jurisdiction: 默认规则集（按 rules.md 默认值）",
                                "jurisdiction: 王明华同志所在市规则集")
                       .replace("rules_dir: .", f"rules_dir: {rules}"), encoding="utf-8")
    build(home, AS_OF, ruleset_path=ruleset)
    publish(home)
    mark = "[姓名已隐去]"
    with duckdb.connect(str(home.published_file), read_only=True) as con:
        description = con.execute("select description from core.inspection_finding").fetchall()
        jurisdiction = con.execute("select jurisdiction from ruleset.version").fetchall()
        table_columns = con.execute("select column_name from duckdb_columns() where "
                                    "schema_name = 'ruleset' and table_name = 'version'"
                                    ).fetchall()
    assert description == [(f"{mark}与{mark}、{mark}共同决定，{mark}知情",)]
    assert jurisdiction == [(f"{mark}同志所在市规则集",)]
    assert ("cadre_key",) not in table_columns
    raw = home.published_file.read_bytes()
    for name in ids:
        assert name.encode() not in raw, f"name {name} in the analysts' snapshot"
    with duckdb.connect(str(home.review_snapshot_file), read_only=True) as con:  # identified
        assert con.execute("select jurisdiction from ruleset.version").fetchall() == [
            ("王明华同志所在市规则集",)]


def _contents(path: Path) -> dict[str, object]:
    """Every table of a snapshot: its comment, its columns (type, comment) and its rows as a
    multiset; ``published_at`` left out (it is the time of each publish)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        found: dict[str, object] = {}
        for schema, table, comment in con.execute(
                "select schema_name, table_name, comment from duckdb_tables()").fetchall():
            columns = con.execute("select column_name, data_type, comment from duckdb_columns() "
                                  "where schema_name = ? and table_name = ? order by column_index",
                                  [schema, table]).fetchall()
            kept = ", ".join(c[0] for c in columns if c[0] != "published_at")
            rows = Counter(repr(r) for r in con.execute(
                f"select {kept} from {schema}.{table}").fetchall())
            found[f"{schema}.{table}"] = (comment, columns, rows)
        return found
    finally:
        con.close()


def _decide_first_flag(home: DataHome) -> str:
    with writer(home.warehouse_file) as con:
        sync_flags(con)
        add_decider(con, "干部科张三", "干部科科长")
        flag_id = con.execute("select flag_id from decisions.flag_state order by flag_id "
                              "limit 1").fetchone()[0]
        record_decision(con, Decision(flag_id, "observe", AS_OF, "干部科张三", "考察期观察",
                                      observe_until=date(2026, 12, 31)))
    return flag_id


def test_a_decision_rewrites_only_decision_tables_and_gives_the_full_snapshots(
        published: tuple[DataHome, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    """After a decision the build tables are carried over from the previous snapshots; the
    result must be exactly what a full publish writes, in both snapshots."""
    home, _ = published
    flag_id = _decide_first_flag(home)
    with caplog.at_level(logging.INFO, logger="pipelines.publish.snapshot"):
        publish(home)
    assert "build tables carried over unchanged" in caplog.text
    carried = {p: _contents(p) for p in (home.published_file, home.review_snapshot_file)}
    dictionary = (home.published_dir / DICTIONARY_NAME).read_text(encoding="utf-8")
    review = carried[home.review_snapshot_file]["decisions.decision_log"]
    assert any(flag_id in row for row in review[2])  # the decision reached the snapshots

    (home.review_snapshot_dir / carry.STATE_NAME).unlink()  # no state: a full publish
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines.publish.snapshot"):
        publish(home)
    assert "publishing" in caplog.text and "carried over" not in caplog.text
    for path, tables in carried.items():
        assert _contents(path) == tables, path
    assert (home.published_dir / DICTIONARY_NAME).read_text(encoding="utf-8") == dictionary


def test_anything_but_a_decision_gives_a_full_publish(
        published: tuple[DataHome, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    """A new build, a changed build table (whoever wrote it), a restored snapshot file: the
    previous snapshots no longer match, so nothing is carried over."""
    home, _ = published

    def carried_over() -> bool:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pipelines.publish.snapshot"):
            publish(home)
        return "carried over" in caplog.text

    assert carried_over()  # nothing changed: carried
    build(home, AS_OF)
    assert not carried_over()  # rebuilt (built_at differs)
    assert carried_over()
    with writer(home.warehouse_file) as con:  # one cell of one build table, by hand
        con.execute("update marts.cadre_profile set score_virtue = score_virtue - 1 "
                    "where id_number = (select min(id_number) from marts.cadre_profile)")
    assert not carried_over()
    previous = home.published_file.read_bytes()
    assert carried_over()
    home.published_file.chmod(0o644)
    home.published_file.write_bytes(previous)  # an older file put back
    assert not carried_over()


def test_publishes_take_turns(published: tuple[DataHome, list[str]]) -> None:
    """A publish waits for the one under way (both files and the carry state are swapped by
    one publish at a time), then runs."""
    import fcntl
    import threading

    home, _ = published
    before = home.published_file.stat().st_mtime_ns
    with open(home.review_snapshot_dir / ".publish.lock", "a", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another publish holds it
        waiting = threading.Thread(target=publish, args=(home,))
        waiting.start()
        waiting.join(timeout=3)
        assert waiting.is_alive()
        assert home.published_file.stat().st_mtime_ns == before
    waiting.join(timeout=120)
    assert not waiting.is_alive()
    assert home.published_file.stat().st_mtime_ns != before


def _full_width(text: str) -> str:
    """Digits, hyphens and blanks as a unit may type them: ０-９, －, the ideographic space."""
    return text.translate({**{ord(d): 0xFF10 + int(d) for d in "0123456789"},
                           ord("-"): "－", ord(" "): "\u3000"})


def _text_cells(path: Path) -> dict[str, list[str]]:
    """Every VARCHAR and VARCHAR[] value of a snapshot, by table.column."""
    cells: dict[str, list[str]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for schema, table, column, dtype in con.execute(
                "select schema_name, table_name, column_name, data_type from duckdb_columns() "
                "where data_type in ('VARCHAR', 'VARCHAR[]')").fetchall():
            values = con.execute(f'select "{column}" from {schema}.{table} '
                                 f'where "{column}" is not null').fetchall()
            flat = [v for (value,) in values
                    for v in (value if dtype == "VARCHAR[]" else [value]) if v is not None]
            cells[f"{schema}.{table}.{column}"] = flat
    return cells


def test_ids_and_birth_dates_written_in_free_text_are_hidden(
        home: DataHome, tmp_path: Path) -> None:
    """The forms an audit found in analysts' text, for 360281198103194838 (born 1981-03-19):
    an ID with blanks or hyphens between its groups, its old 15-digit form and the birth date
    written out, in ASCII and full-width. None may reach the analysts' snapshot (finding,
    evidence, deduction or any other text column), while the review snapshot keeps the text
    as the unit wrote it and analysts keep amounts, 文号, 问题编号, phone numbers, recent dates
    and a year with a month."""
    from pipelines.ingest import idcard

    cid = idcard.make("360281", date(1981, 3, 19), 483)
    assert cid == "360281198103194838"
    old = cid[:6] + cid[8:17]  # 360281810319483
    hidden = [f"ID {cid[:6]} {cid[6:14]} {cid[14:]}", f"连字符{cid[:6]}-{cid[6:14]}-{cid[14:]}",
              f"旧证{old}", "当事人出生于1981年3月19日", "1981-03-19", "生日19810319",
              "1981/3/19", "1981.03.19"]
    hidden += [_full_width(form) for form in hidden]
    kept = ["涉及金额12.5万元、3600万元", "文号赣组字〔2025〕12号", "问题编号2025-INS-0001",
            "手机13800138000", "2024年3月5日发现", "2024-03-05", "1981年3月入党",
            "任职2005.01-2008.12"]
    s = Scenario()
    s.cadre("赵敏", id_number=cid)
    for part in (hidden[:8], hidden[8:]):
        finding(s, cid, **I1)
        s.rows["inspection_finding"][-1]["description"] = "；".join(part + kept)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    publish(home)

    digits = (cid, old, "19810319")  # also once blanks, hyphens and full width are undone
    cells = _text_cells(home.published_file)
    for column, values in cells.items():
        for value in values:
            assert not [form for form in hidden if form in value], (column, value)
            bare = "".join(c for c in unicodedata.normalize("NFKC", value) if c.isalnum())
            assert not [d for d in digits if d in bare], (column, value)
    for column in ("core.inspection_finding.description", "core.evidence.summary_zh",
                   "marts.deduction.summary_zh"):
        scrubbed = [v for v in cells[column] if "[身份证号已隐去]" in v]
        assert len(scrubbed) >= 2, column  # the findings' text reached it, scrubbed
        for value in scrubbed:
            assert "[日期已隐去]" in value and all(k in value for k in kept), (column, value)
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        written = sorted(r[0] for r in con.execute(
            "select description from core.inspection_finding").fetchall())
    with duckdb.connect(str(home.review_snapshot_file), read_only=True) as con:
        assert sorted(r[0] for r in con.execute(
            "select description from core.inspection_finding").fetchall()) == written
    assert all(form in "".join(written) for form in hidden[:8])  # identified, as written
    # full width too, but ingest makes the ideographic space a blank (clean_text): that one
    # is tested on the SQL itself (tests/test_scrub.py)
    assert all(form.replace("\u3000", " ") in "".join(written) for form in hidden[8:])
