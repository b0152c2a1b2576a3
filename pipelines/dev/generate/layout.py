"""Which file each (unit, source, year) becomes, and writing one table to disk.

The default plan gives every source the container a real unit would use and makes each one
exercise a different parser path (see the module table below); ``file_format="csv"`` swaps all
of them for plain UTF-8 CSV with the header on row 1, for benchmarks.

| source | unit | default file |
|---|---|---|
| roster | ORG | xlsx, two merged title rows, extra column 联系电话 |
| annual_assessment | ORG | csv GBK (CRLF); aliases in the first year, shuffled in the last |
| inspection_finding | INS | xlsx, one merged title row |
| audit_finding | AUD | csv UTF-8 with BOM, amounts "1,250.50"; full-width （万元） once |
| petition_verification | PET | json array keyed by English names |
| petition_verification | DIS | csv UTF-8 without BOM (LF) |
| personal_report_check | ORG | xlsx, header on row 1, columns shuffled |
| sanction | DIS | csv GBK (CRLF), alias headers |
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.contracts import Contract, normalize_header
from pipelines.dev.generate import writers
from pipelines.dev.generate.render import Raw, Renderer, raw_cell

FORMATS = ("xlsx", "csv", "json")


@dataclass(frozen=True)
class FilePlan:
    unit: str
    source: str
    filename: str
    format: str  # xlsx | csv | json
    encoding: str | None  # csv: gbk | utf-8-sig | utf-8; json: utf-8; xlsx: None
    title_rows: tuple[str, ...] = ()
    shuffle: bool = False
    headers: str = "zh"  # zh | alias | fullwidth (json always uses English names)
    extra_columns: tuple[str, ...] = ()
    newline: str = "\r\n"
    sheet: str = "Sheet1"

    @property
    def relpath(self) -> str:
        return f"{self.unit}/{self.source}/{self.filename}"

    @property
    def header_row(self) -> int | None:
        """1-based row of the header as the unit sees it (None for JSON: no header)."""
        if self.format == "json":
            return None
        return len(self.title_rows) + 1 if self.format == "xlsx" else 1

    def source_row(self, index: int) -> int:
        """The row number a unit sees for the ``index``-th data row (0-based)."""
        if self.format == "json":
            return index + 1
        assert self.header_row is not None
        return self.header_row + 1 + index

    def as_csv(self) -> FilePlan:
        """The same drop as plain UTF-8 CSV (benchmark mode)."""
        stem = self.filename.rsplit(".", 1)[0]
        return replace(self, filename=f"{stem}.csv", format="csv", encoding="utf-8",
                       title_rows=(), newline="\n")


def default_plan(unit: str, source: str, year: int, years: tuple[int, ...]) -> FilePlan:
    """The container and header habits of ``unit`` sending ``source`` for ``year``."""
    first, last = years[0], years[-1]
    if source == "roster":
        return FilePlan(unit, source, f"{year}年干部名册.xlsx", "xlsx", None,
                        title_rows=(f"{year}年干部名册",
                                    f"填报单位：市委组织部干部一科　　截止日期：{year}年12月31日"),
                        extra_columns=("联系电话",), sheet="干部名册")
    if source == "annual_assessment":
        return FilePlan(unit, source, f"{year}年度考核结果.csv", "csv", "gbk",
                        shuffle=year == last, headers="alias" if year == first else "zh")
    if source == "inspection_finding":
        return FilePlan(unit, source, f"{year}年巡视巡察发现问题清单.xlsx", "xlsx", None,
                        title_rows=(f"{year}年度巡视巡察发现问题清单",), sheet="问题清单")
    if source == "audit_finding":
        return FilePlan(unit, source, f"{year}年审计发现问题.csv", "csv", "utf-8-sig",
                        headers="fullwidth" if year == last else "zh")
    if source == "petition_verification" and unit == "PET":
        return FilePlan(unit, source, f"{year}年信访举报查核.json", "json", "utf-8")
    if source == "petition_verification":
        return FilePlan(unit, source, f"{year}年纪委信访件查核.csv", "csv", "utf-8", newline="\n")
    if source == "personal_report_check":
        return FilePlan(unit, source, f"{year}年个人有关事项报告查核.xlsx", "xlsx", None,
                        shuffle=True, sheet="查核结果")
    if source == "sanction":
        return FilePlan(unit, source, f"{year}年处分与组织处理.csv", "csv", "gbk", headers="alias")
    return FilePlan(unit, source, f"{year}年{source}.csv", "csv", "utf-8")


def extra_values(header: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """Values for a column the contract does not know (the pipeline ignores and reports it)."""
    if header == "联系电话":
        prefix = np.array(["13", "15", "18", "19", "17"])[rng.integers(0, 5, n)]
        rest = rng.integers(0, 10**9, n)
        return np.array([f"{p}{r:09d}" for p, r in zip(prefix, rest, strict=True)], dtype=object)
    return np.full(n, "", dtype=object)


def _header_text(contract: Contract, name: str, style: str, rng: np.random.Generator) -> str:
    f = contract.field(name)
    if style == "fullwidth" and "(" in f.header_zh:
        return f.header_zh.replace("(", "（").replace(")", "）")
    if style == "alias" and f.aliases and rng.random() < 0.5:
        alias = f.aliases[int(rng.integers(0, len(f.aliases)))]
        # Only an alias that maps back to this field and no other is safe to use.
        if contract.header_index().get(normalize_header(alias)) == name:
            return alias
    return f.header_zh


@dataclass(frozen=True)
class Written:
    """What ended up in a file: row count and the header order actually used."""

    rows: int
    fields: tuple[str, ...]  # contract fields in file order
    extra_columns: tuple[str, ...]


def write_table(out_dir: Path, plan: FilePlan, contract: Contract, rows: pd.DataFrame,
                rng: np.random.Generator, *, overrides: dict[tuple[int, str], Raw] | None = None,
                drop_fields: tuple[str, ...] = (), quirks: bool = True) -> Written:
    """Render ``rows`` (typed, contract field names) per ``plan`` and write the file.

    ``overrides`` puts verbatim cells at (row index, field) for planted faults;
    ``drop_fields`` leaves columns out (the missing-column fault).
    """
    if plan.format not in FORMATS:
        raise ValueError(f"unknown format {plan.format!r}")
    rows = rows.reset_index(drop=True)
    fields = [f for f in contract.field_names if f not in drop_fields]
    if plan.shuffle:
        fields = [fields[i] for i in rng.permutation(len(fields))]
    renderer = Renderer(plan.format, rng, quirks=quirks)
    columns = [renderer.column(contract.field(f), rows[f]) for f in fields]
    for (i, name), raw in (overrides or {}).items():
        columns[fields.index(name)][i] = raw_cell(raw.value, plan.format)
    if plan.format == "json":
        headers = list(fields)
        extras: tuple[str, ...] = ()
    else:
        headers = [_header_text(contract, f, plan.headers, rng) for f in fields]
        extras = plan.extra_columns
        for header in extras:
            at = int(rng.integers(1, len(headers) + 1))
            headers.insert(at, header)
            columns.insert(at, extra_values(header, rng, len(rows)))
            fields.insert(at, "")
    path = out_dir / plan.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.format == "csv":
        assert plan.encoding is not None
        _assert_single_line(columns)
        writers.write_csv(path, headers, columns, encoding=plan.encoding, newline=plan.newline)
    elif plan.format == "xlsx":
        writers.write_xlsx(path, headers, columns, title_rows=plan.title_rows,
                           date_format=renderer.xlsx_date_format, sheet=plan.sheet,
                           title=contract.title_zh)
    else:
        writers.write_json(path, headers, columns)
    return Written(len(rows), tuple(f for f in fields if f), extras)


def _assert_single_line(columns: list[np.ndarray]) -> None:
    """A CSV row must stay one line, or row numbers would not be what the unit sees."""
    for col in columns:
        for v in col:
            if isinstance(v, str) and ("\n" in v or "\r" in v):
                raise ValueError(f"multi-line cell would shift CSV row numbers: {v!r}")


def key_of(contract: Contract, rows: pd.DataFrame) -> pd.Series:
    """The normalised key of each row, as the pipeline compares it (NFKC, no blanks)."""
    parts = []
    for name in contract.key:
        col = rows[name].astype(object)
        parts.append(col.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v))
                             else "".join(unicodedata.normalize("NFKC", str(v)).split()).upper()))
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key


def assert_unique_keys(contract: Contract, rows: pd.DataFrame, where: str) -> None:
    dup = key_of(contract, rows).duplicated(keep=False)
    if dup.any():
        sample = rows.loc[dup, list(contract.key)].head(4).to_dict("records")
        raise ValueError(f"{where}: duplicate {contract.source} keys in clean data: {sample}")
