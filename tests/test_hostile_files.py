"""No file can crash ingest: a corpus of 300+ hostile files, every one ends in a final receipt.

The whole corpus goes through the real ``submit_file`` (and ``receive_bytes`` for a name no
file system allows) in one process against one data folder; afterwards nothing is in flight,
every original is archived byte for byte, and the warehouse reconciles with the receipts.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import reasons
from pipelines.ingest.receipt import STATUSES
from pipelines.ingest.steps import load_step, receive_bytes, submit_file
from pipelines.settings import DataHome
from tests.fuzz_corpus import Hostile, corpus

pytestmark = pytest.mark.slow


def _submit(hostile: Hostile, folder: Path, home: DataHome, index: int):  # noqa: ANN202
    """Through a real file when the file system allows the name, else the bytes API."""
    name = hostile.name
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    plain = b"/" not in raw and b"\x00" not in raw and raw not in (b"", b".", b"..")
    if plain:
        target = folder / str(index)
        target.mkdir()
        path = Path(os.fsdecode(os.path.join(os.fsencode(target), raw)))
        try:
            path.write_bytes(hostile.data)
        except OSError:  # a name longer than the file system allows: only an upload has it
            pass
        else:
            return submit_file(path, hostile.unit, hostile.source, home)
    submission_id = receive_bytes(hostile.data, os.fsdecode(raw), hostile.unit, hostile.source,
                                  home)
    return load_step(submission_id, home)


def test_every_hostile_file_ends_in_a_final_receipt(home: DataHome, tmp_path: Path) -> None:
    files = corpus()
    assert len(files) >= 300
    receipts = [_submit(f, tmp_path, home, i) for i, f in enumerate(files)]

    statuses = Counter(r.status for r in receipts)
    assert set(statuses) <= set(STATUSES), statuses
    for hostile, receipt in zip(files, receipts, strict=True):
        if receipt.status == "refused":  # a reason a unit can act on, from the one table
            assert receipt.refusal_reason, hostile.kind
            assert receipt.issues[0].reason in reasons.BY_CODE, hostile.kind
            assert receipt.issues[0].fix_zh, hostile.kind

    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        in_flight = con.execute(
            "select count(*) from meta.submission where status not in "
            "('accepted', 'partially_accepted', 'refused', 'duplicate') or feedback_pending"
        ).fetchone()[0]
        assert in_flight == 0
        archived = con.execute("select sha256, archive_path, filename from meta.submission"
                               ).fetchall()
        # the warehouse reconciles with the receipts, submission by submission
        mismatched = con.execute("""
            select s.submission_id from meta.submission s
            left join (select submission_id, count(*) n from raw.roster group by 1) r
                using (submission_id)
            left join (select submission_id, count(*) n from raw.audit_finding group by 1) a
                using (submission_id)
            where coalesce(r.n, 0) + coalesce(a.n, 0) <> s.rows_accepted
               or s.rows_read <> s.rows_accepted + s.rows_quarantined
                  and s.status <> 'refused'
        """).fetchall()
        assert mismatched == []
        refused_rows = con.execute(
            "select count(*) from raw.roster join meta.submission using (submission_id) "
            "where status = 'refused'").fetchone()[0]
        assert refused_rows == 0
        # engineers keep the exception behind refusals that came from one
        with_error = con.execute("select count(*) from meta.submission where error is not null"
                                 ).fetchone()[0]
        assert with_error > 0
    assert len(archived) == len(files)
    for sha, path, filename in archived:  # every original kept, whatever its name
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
        assert Path(path).parent.parent == home.archive and len(Path(path).name) <= 64 + 9
        assert "\x00" not in filename and "/" not in filename and len(filename) <= 255
    by_kind = {f.kind: r for f, r in zip(files, receipts, strict=True)}
    assert by_kind["JSON nested 10,000 deep"].issues[0].reason == "too_deep"
    assert by_kind["xlsx entity bomb in sharedStrings"].issues[0].reason == "unsafe_xml"
    assert by_kind["xlsx external entity in sharedStrings"].issues[0].reason == "unsafe_xml"
    assert by_kind["xlsx with no sheets"].issues[0].reason == "no_sheet"
    assert by_kind["xlsx cell at XFD1048576"].issues[0].reason == "too_many_rows"
    assert by_kind["xlsx cell at ZZZ9"].issues[0].reason == "too_many_columns"
    assert by_kind["zip bomb (40 MB of zeros in one member)"].issues[0].reason == "zip_bomb"
    assert by_kind["GBK body behind a UTF-8 BOM"].issues[0].reason == "bad_encoding"
    assert by_kind["JSON 5,000-digit number"].issues[0].reason == "number_too_long"
    assert by_kind["Excel-damaged ID column"].issues[0].reason == "id_column_excel_damaged"
    assert by_kind["a 100,000-character cell"].issues[0].reason == "cell_too_long"
    assert by_kind["300 columns"].issues[0].reason == "too_many_columns"
    # names: the bytes are kept and loaded, the name is recorded readably
    assert by_kind["GBK bytes in the name"].filename == "干部名册.csv"
    assert by_kind["250-character name"].status == "accepted"
    assert by_kind["NUL in the name"].filename == "ab.csv"
    assert by_kind["dot-dot in the name"].filename == "passwd.csv"
    # an amount beyond DECIMAL(18,4) is a row issue before load, never a failed cast
    big = by_kind["amount 100000000000"]
    assert big.status == "refused" and big.issues[1].reason == "value_out_of_bounds"
