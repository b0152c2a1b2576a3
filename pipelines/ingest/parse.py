"""Parse: a unit's file -> a typed frame per the contract, plus what could not be typed.

Steps: read the file into text cells (``pipelines.ingest.readers``), map its headers to contract fields
(Chinese header, alias or English name, any order), refuse the file if a required column is
missing or it has no rows, then type every column at once (``pipelines.ingest.values``). A cell that
cannot be typed becomes NA and an ``Issue`` naming its row, column and value; whether the row
is quarantined is decided in validate, together with the GX suite's findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines.contracts import Contract, Field, normalize_header
from pipelines.ingest import idcard, values
from pipelines.ingest.readers import FileRefusal, TextTable, read_table
from pipelines.ingest.receipt import Issue

ID_BIRTH_COLUMN = "_id_birth_date"  # helper column: the birth date inside the ID number
PARSE_REASON = {"date": "bad_date", "year": "bad_year", "int": "bad_int", "decimal": "bad_decimal",
                "bool": "bad_bool", "code_list": "unknown_code"}


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
        raise FileRefusal("missing_required_column", "、".join(missing))
    return mapped, extras


def type_column(raw: pd.Series, spec: Field) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """(typed column, bad-cell mask, reason per bad cell or None when one reason fits all)."""
    if spec.type == "id_number":
        ids, reason = idcard.classify_ids(raw)
        return ids, reason.notna(), reason
    if spec.type == "text":
        return values.clean_text(raw), pd.Series(False, index=raw.index), None
    if spec.type == "code":
        typed, bad = values.parse_codes(raw)
        return typed, bad, None
    if spec.type == "code_list":
        typed, bad = values.parse_code_lists(raw, spec.codes)
        return typed, bad, None
    parser = {"date": values.parse_dates, "year": values.parse_years, "int": values.parse_ints,
              "decimal": values.parse_decimals, "bool": values.parse_bools}[spec.type]
    typed, bad = parser(raw)
    return typed, bad, None


def empty_column(spec: Field, length: int) -> pd.Series:
    dtype = {"date": "datetime64[s]", "year": "Int64", "int": "Int64", "decimal": "float64",
             "bool": "boolean", "code_list": "object"}.get(spec.type, "str")
    return pd.Series([None] * length, dtype=dtype)


def parse_table(table: TextTable, contract: Contract) -> ParsedDrop:
    headers, extras = map_headers(table, contract)
    if not table.source_rows:
        raise FileRefusal("no_rows")
    frame = table.frame.reset_index(drop=True)
    rows = table.source_rows
    typed: dict[str, pd.Series] = {}
    text: dict[str, pd.Series] = {}
    issues: list[Issue] = [Issue.make("extra_column", value=h) for h in extras]
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
        column, bad, reason = type_column(raw, spec)
        typed[spec.name], text[spec.name], bad_cells[spec.name] = column, raw, bad
        for position in bad[bad].index:
            code = reason[position] if reason is not None else PARSE_REASON[spec.type]
            issues.append(Issue.make(code, source_row=rows[position], column=spec.name,
                                     header=spec.header_zh, value=raw[position],
                                     codes="、".join(spec.codes)))
    typed_frame = pd.DataFrame(typed)
    id_fields = {f.agrees_with_id for f in contract.fields if f.agrees_with_id}
    for id_field in id_fields:  # only a valid ID has a birth date to compare with
        valid_ids = typed_frame[id_field].where(~bad_cells.get(id_field, False))
        typed_frame[ID_BIRTH_COLUMN] = pd.to_datetime(
            valid_ids.str[6:14], format="%Y%m%d", errors="coerce").astype("datetime64[s]")
    return ParsedDrop(typed=typed_frame, text=pd.DataFrame(text), source_rows=list(rows),
                      headers=headers, issues=issues, extra_columns=extras,
                      file_format=table.file_format, encoding=table.encoding)


def parse_file(data: bytes, filename: str, contract: Contract) -> ParsedDrop:
    """Bytes of one submission -> ParsedDrop. Raises FileRefusal for whole-file problems."""
    table = read_table(data, filename, contract.header_index().keys())
    return parse_table(table, contract)
