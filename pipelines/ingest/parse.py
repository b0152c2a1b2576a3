"""Parse: a unit's file -> a typed frame per the contract, plus what could not be typed.

Steps: read the file into text cells (``pipelines.ingest.readers``), map its headers to contract fields
(Chinese header, alias or English name, any order), refuse the file if a required column is
missing or it has no rows, then type every column at once (``pipelines.ingest.values``). A cell that
cannot be typed becomes NA and an ``Issue`` naming its row, column and value; whether the row
is quarantined is decided in validate, together with the GX suite's findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from pipelines.contracts import Contract, Field, normalize_header
from pipelines.ingest import idcard, values
from pipelines.ingest.errors import InputRefused
from pipelines.ingest.readers import TextTable, read_table
from pipelines.ingest.receipt import Issue

ID_BIRTH_COLUMN = "_id_birth_date"  # helper column: the birth date inside the ID number
PARSE_REASON = {"date": "bad_date", "year": "bad_year", "int": "bad_int", "decimal": "bad_decimal",
                "bool": "bad_bool", "code_list": "unknown_code"}
BOUNDED_PARSERS = {"date": values.dates_with_bounds, "int": values.ints_with_bounds,
                   "decimal": values.decimals_with_bounds}

# What units put around the data (sources.md): total rows, signature lines, notes, and below
# the data rows holding only formula results, zeros or blanks in the columns we read.
# A total row is known by a cell that is only its label (``合计``, ``合计：12项``), a signature
# line by its first cell starting with one (``填表人：王五  审核人：赵六``), never by words inside
# a data cell: a finding described as ``对分管负责人监督不力`` or ``合计报销超标3.2万元`` is data,
# whatever row it is in, and so is any row naming a valid 身份证号.
TOTAL_ROW = re.compile(r"^\s*(合\s*计|小\s*计|总\s*计|共\s*计)\s*([（(][^）)]{0,10}[）)])?\s*[:：]?"
                       r"\s*([\d.,，]+\s*(项|条|人|名|个|件|笔|万元|元)?)?\s*$")
SIGNATURE_ROW = re.compile(r"^\s*(单位|部门|科室|主要)?(填表人|填报人|审核人|制表人|负责人|联系人|"
                           r"联系电话|填报日期|填表日期|制表日期|审核日期)\s*([（(][^）)]{0,10}[）)])?"
                           r"\s*([:：]|\s|$)")
NOTE_TEXT = re.compile(r"^\s*(注\s*[:：\d１-９]|说明|填写说明|填表说明|备注\s*[:：])")
UNITS_TEXT = re.compile(r"^\s*[（(][^）)]{0,40}[）)]\s*$")
# A zero in a date-formatted cell (a date formula filled down over empty rows) is a formula
# result too: calamine reads it as the time 00:00:00, and a CSV saved from it by Excel holds the
# date Excel shows for day 0, 1900/1/0 (or 1900-01-00, 1900年1月0日).
FILLER = re.compile(r"^\s*([0０]+(\.0+)?|[-—–/]|#N/A|#VALUE!|#REF!|#DIV/0!|#NAME\?|#NUM!|#NULL!|"
                    r"FALSE|false|TRUE|true|0?0:00(:00)?|"
                    r"1900\s*[-/.年]\s*0?1\s*[-/.月]\s*0?0\s*日?(\s+0?0:00(:00)?)?)\s*$")


@dataclass
class ParsedDrop:
    typed: pd.DataFrame  # one column per contract field + ID_BIRTH_COLUMN; index = 0..n-1
    text: pd.DataFrame  # the same cells as read (text), for quarantined rows
    source_rows: list[int]
    headers: dict[str, str]  # field name -> header as written in the file
    issues: list[Issue] = field(default_factory=list)  # row issues and notes
    extra_columns: list[str] = field(default_factory=list)
    file_format: str = ""
    encoding: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.source_rows)


def map_headers(table: TextTable, contract: Contract) -> tuple[dict[str, str], list[str]]:
    """field name -> header as written; plus the columns no field claims (reported, ignored)."""
    index = contract.header_index()
    mapped: dict[str, str] = {}
    extras: list[str] = []
    for header in table.frame.columns:
        name = index.get(normalize_header(header))
        if name is None or name in mapped:
            extras.append(str(header))
        else:
            mapped[name] = str(header)
    missing = [f.header_zh for f in contract.required_fields if f.name not in mapped]
    if missing:
        where = table.where_zh()
        raise InputRefused("missing_required_column", "、".join(missing),
                           f"（按{where}的表头）" if where else "")
    return mapped, extras


def _row_kind(cells: list[object], mapped: list[bool]) -> str | None:
    """What a row below the data is when it is not data: 合计行 / 签名行 / 注释行 / 公式或空值行."""
    texts = [str(c) for c in cells if c is not None]
    if any(idcard.problem(t) is None for t in texts):  # a row naming a cadre is data
        return None
    if any(TOTAL_ROW.match(t) for t in texts):
        return "合计行"
    if texts and SIGNATURE_ROW.match(texts[0]):  # a signature line starts with its label
        return "签名行"
    if texts and NOTE_TEXT.match(texts[0]):
        return "注释行"
    if all(c is None or FILLER.match(str(c)) for c, m in zip(cells, mapped, strict=True) if m):
        return "公式或空值行"
    return None


def _is_units_row(cells: list[object]) -> str | None:
    """A units/instructions row right under the header, e.g. ``（万元）`` or ``填写说明：…``."""
    texts = [str(c).strip() for c in cells if c is not None]
    marks = [t for t in texts if UNITS_TEXT.match(t) or NOTE_TEXT.match(t)]
    if marks and all(UNITS_TEXT.match(t) or NOTE_TEXT.match(t) or FILLER.match(t)
                     for t in texts):
        return marks[0][:30]
    return None


def _rows_zh(rows: list[int]) -> str:
    return str(rows[0]) if len(rows) == 1 else f"{rows[0]}-{rows[-1]}"


def drop_layout_rows(table: TextTable, headers: dict[str, str]) -> list[Issue]:
    """Take the rows around the data that are not data out of ``table`` (in place), as notes:
    a units/instructions row under the header, and the block below the data of totals,
    signatures, notes and formula tails. Only the bottom block: a bad row inside the data
    stays a row for validation to judge."""
    frame = table.frame
    if frame.empty:
        return []
    mapped = [str(c) in set(headers.values()) for c in frame.columns]

    def record(position: int) -> list[object]:  # one row at a time: the blocks are short
        return [None if pd.isna(v) else v for v in frame.iloc[position].tolist()]

    notes: list[Issue] = []
    first = 0
    if (mark := _is_units_row(record(0))) is not None:
        notes.append(Issue.make("note_row_skipped", value=table.source_rows[0], detail=mark))
        first = 1
    total = len(frame)
    last = total
    kinds: list[str] = []
    while last > first and (kind := _row_kind(record(last - 1), mapped)) is not None:
        last -= 1
        if kind not in kinds:
            kinds.insert(0, kind)
    if last < total:
        notes.append(Issue.make("trailer_rows_ignored",
                                value=_rows_zh(table.source_rows[last:]), detail="、".join(kinds)))
    if first or last < total:
        table.frame = frame.iloc[first:last]
        table.source_rows = table.source_rows[first:last]
    return notes


def type_column(raw: pd.Series, spec: Field, as_of: date | None = None,
                ) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """(typed column, bad-cell mask, reason per bad cell or None when one reason fits all);
    ``as_of`` is the data's date, which an ID's birth date must be 16 years before."""
    if spec.type == "id_number":
        ids, reason = idcard.classify_ids(raw, as_of)
        return ids, reason.notna(), reason
    if spec.type == "text":
        return values.clean_text(raw), pd.Series(False, index=raw.index), None
    if spec.type == "code":
        typed, bad = values.parse_codes(raw)
        return typed, bad, None
    if spec.type == "code_list":
        typed, bad = values.parse_code_lists(raw, spec.codes)
        return typed, bad, None
    if spec.type in BOUNDED_PARSERS:  # readable but beyond what the warehouse can store
        typed, bad, beyond = BOUNDED_PARSERS[spec.type](raw)
        if not beyond.any():
            return typed, bad, None
        reason = pd.Series(PARSE_REASON[spec.type], index=raw.index, dtype="object")
        return typed, bad | beyond, reason.mask(beyond, "value_out_of_bounds")
    parser = {"year": values.parse_years, "bool": values.parse_bools}[spec.type]
    typed, bad = parser(raw)
    return typed, bad, None


def type_distinct(raw: pd.Series, spec: Field, as_of: date | None = None,
                  ) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """``type_column`` run once per distinct text of the column, spread back to every row.

    Every typing rule is a function of one cell's text alone, so typing each distinct text
    once gives, cell by cell, exactly what typing the whole column gives; but a column of
    300,000 cells usually holds a few hundred distinct texts (codes, dates, years, flags), and
    the regexes and NFKC normalisation behind each rule cost per cell. Code lists are typed
    as they are (each row gets its own list, not one shared by every row with that text)."""
    if spec.type == "code_list":
        return type_column(raw, spec, as_of)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if len(uniques) == len(raw):  # nothing repeats (IDs, names): nothing to share
        return type_column(raw, spec, as_of)
    # the distinct texts, and one empty cell last: what a row with nothing in it types to
    distinct = pd.Series(uniques, dtype=raw.dtype)
    distinct = pd.concat([distinct, pd.Series([None], dtype=raw.dtype)], ignore_index=True)
    positions = np.where(codes < 0, len(uniques), codes)
    column, bad, reason = type_column(distinct, spec, as_of)

    def spread(values: pd.Series) -> pd.Series:
        return pd.Series(values.array.take(positions), index=raw.index, name=values.name,
                         dtype=values.dtype)

    return spread(column), spread(bad), None if reason is None else spread(reason)


def empty_column(spec: Field, length: int) -> pd.Series:
    dtype = {"date": "datetime64[s]", "year": "Int64", "int": "Int64", "decimal": "float64",
             "bool": "boolean", "code_list": "object"}.get(spec.type, "str")
    return pd.Series([None] * length, dtype=dtype)


def parse_table(table: TextTable, contract: Contract, as_of: date | None = None) -> ParsedDrop:
    headers, extras = map_headers(table, contract)
    layout_notes = drop_layout_rows(table, headers)
    if not table.source_rows:
        raise InputRefused("no_rows")
    frame = table.frame.reset_index(drop=True)
    rows = table.source_rows
    typed: dict[str, pd.Series] = {}
    text: dict[str, pd.Series] = {}
    issues: list[Issue] = [Issue.make(code, value=value, detail=detail)
                           for code, value, detail in table.notes]
    issues += [Issue.make("extra_column", value=h) for h in extras] + layout_notes
    bad_cells: dict[str, pd.Series] = {}
    for spec in contract.fields:
        if spec.name not in headers:
            typed[spec.name] = empty_column(spec, len(frame))
            text[spec.name] = pd.Series([None] * len(frame), dtype="str")
            continue
        header = headers[spec.name]
        raw = frame[header]
        # a header written twice is taken from its first column
        raw = raw.iloc[:, 0] if isinstance(raw, pd.DataFrame) else raw
        column, bad, reason = type_distinct(raw, spec, as_of)
        if spec.type == "id_number" and (damaged := idcard.damaged_column(column)):
            raise InputRefused("id_column_excel_damaged", damaged, spec.header_zh)
        typed[spec.name], text[spec.name], bad_cells[spec.name] = column, raw, bad
        for position in bad[bad].index:
            code = reason[position] if reason is not None else PARSE_REASON[spec.type]
            # an out-of-bounds value's message and fix name the range the unit may use
            bounds = values.BOUNDS_ZH[spec.type] if code == "value_out_of_bounds" else ""
            issues.append(Issue.make(code, source_row=rows[position], column=spec.name,
                                     header=spec.header_zh, value=raw[position],
                                     codes="、".join(spec.codes), detail=bounds))
    typed_frame = pd.DataFrame(typed)
    id_fields = {f.agrees_with_id for f in contract.fields if f.agrees_with_id}
    for id_field in id_fields:  # only a valid ID has a birth date to compare with
        valid_ids = typed_frame[id_field].where(~bad_cells.get(id_field, False))
        typed_frame[ID_BIRTH_COLUMN] = pd.to_datetime(
            valid_ids.str[6:14], format="%Y%m%d", errors="coerce").astype("datetime64[s]")
    return ParsedDrop(typed=typed_frame, text=pd.DataFrame(text), source_rows=list(rows),
                      headers=headers, issues=issues, extra_columns=extras,
                      file_format=table.file_format, encoding=table.encoding)


def parse_file(data: bytes, filename: str, contract: Contract,
               as_of: date | None = None) -> ParsedDrop:
    """Bytes of one submission -> ParsedDrop; ``as_of`` is the data's date (the day it was
    received; default today). Raises InputRefused for whole-file problems, EnvironmentFault
    for the machine's."""
    table = read_table(data, filename, contract.header_index().keys())
    return parse_table(table, contract, as_of)
