"""Fault files: every kind of bad input, planted in separate small files with known outcomes.

Clean files stay clean. Two families:

* whole-file faults (the file is refused): a unit sending a source it may not send, a
  corrupt file, a header without rows, a missing required column;
* row faults (the row is quarantined, the rest loads): one file per source, each bad row
  carrying exactly one fault. A bad row is a *phantom* (a valid ID that is nobody's, fresh key
  values) built from a complete clean row, so nothing but the planted fault is wrong with it
  and nothing it contains collides with the clean drops. The file's good rows are verbatim
  copies of clean rows; for the roster (a full snapshot) that means the whole clean roster, so
  loading the fault roster in any order leaves the cadre scope unchanged.

Every planted ID problem is checked against ``idcard.problem`` and every planted unknown code
against the contract before the manifest promises its reason code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts import Contract, load_contract, units_for_source
from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.cadres import chinese_names
from pipelines.dev.generate.layout import FilePlan, default_plan, key_of, write_table
from pipelines.dev.generate.manifest import ExpectedIssue, FileEntry
from pipelines.dev.generate.render import Raw
from pipelines.dev.generate.world import World, typed_frame
from pipelines.ingest import idcard

Row = dict[str, Any]


@dataclass
class Ctx:
    """What a fault needs: the world, the file format, a random stream, phantom bookkeeping."""

    world: World
    fmt: str
    rng: np.random.Generator
    year: int
    phantoms: list[str] = field(default_factory=list)
    counter: int = 0

    def phantom(self, row: Row, contract: Contract) -> None:
        """Give ``row`` a fresh valid ID (and name, and fresh text keys) that is nobody's."""
        self.counter += 1
        if "birth_date" in row and row.get("gender") in ("男", "女"):
            born = pd.Timestamp(row["birth_date"]).date()
            male = row["gender"] == "男"
        else:
            born = date(1970, 1, 1) + pd.Timedelta(days=int(self.rng.integers(0, 8000)))
            male = bool(self.rng.random() < 0.7)
        home, _ = ref.area_codes()
        area = str(home[int(self.rng.integers(0, home.size))])
        row["id_number"] = self.world.new_id(self.rng, born, male, area)
        row["name"] = str(chinese_names(self.rng, np.array([male]))[0])
        self.phantoms.append(row["id_number"])
        if "id_number" not in contract.key:
            for name in contract.key:
                if contract.field(name).type == "text":
                    row[name] = f"{row[name]}-F{self.counter}"

    def mangled(self, id_number: str) -> Any:
        """The ID as Excel turned it into a number: a numeric cell, or its CSV text."""
        if self.fmt == "xlsx":
            return float(int(id_number[:17] + ("0" if id_number[17] == "X" else id_number[17])))
        mantissa, exponent = f"{float(int(id_number[:17] + '0')):.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent):02d}"


def _bad_checksum(id_number: str) -> str:
    right = id_number[17]
    return id_number[:17] + ("0" if right != "0" else "1")


def _unknown(contract: Contract, name: str, value: str) -> str:
    if value in contract.field(name).codes:
        raise ValueError(f"planted unknown code {value!r} is a valid {contract.source}.{name}")
    return value


# A fault edits a phantom row (typed values, in place) and returns the verbatim cells to write.
Edit = Callable[[Row, Ctx, Contract], dict[str, Raw]]


@dataclass(frozen=True)
class RowFault:
    reason: str
    field: str
    edit: Edit
    what: str  # in words, for the manifest description
    duplicate: bool = False  # plant two rows sharing one key (both quarantined)


def _id(value: Callable[[str, Ctx], Any]) -> Edit:
    return lambda row, ctx, c: {"id_number": Raw(value(row["id_number"], ctx))}


def _raw(name: str, value: Any) -> Edit:
    return lambda row, ctx, c: {name: Raw(value)}


def _code(name: str, value: str) -> Edit:
    return lambda row, ctx, c: {name: Raw(_unknown(c, name, value))}


def _shift_birth(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    row["birth_date"] = pd.Timestamp(row["birth_date"]) + pd.DateOffset(years=1, days=3)
    return {}


def _tolerated_without_basis(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    row["tolerated"], row["tolerance_basis"] = True, None
    return {}


def _closed_without_conclusion(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    if pd.isna(row["closed_on"]):
        row["closed_on"] = pd.Timestamp(row["received_on"]) + pd.Timedelta(days=30)
    row["conclusion"] = None
    return {}


def _inconsistent(row: Row, **changes: Any) -> None:
    """Make a personal-report row a valid 漏报 first, so only the planted fault remains."""
    for name, code in (("result", "漏报"), ("items", "房产"), ("outcome", "批评教育")):
        ref.check_codes("personal_report_check", name, (code,))
    row.update(result="漏报", items=("房产",), item_count=1, outcome="批评教育")
    row.update(changes)


def _missing_items(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    _inconsistent(row, items=None)
    return {}


def _negative_count(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    _inconsistent(row)
    return {"item_count": Raw(-1)}


def _unknown_item(row: Row, ctx: Ctx, c: Contract) -> dict[str, Raw]:
    _inconsistent(row)
    return {"items": Raw("房产、" + _unknown(c, "items", "股票"))}


def _date(name: str, template: str) -> Edit:
    return lambda row, ctx, c: {name: Raw(template.format(year=ctx.year))}


ROW_FAULTS: dict[str, tuple[RowFault, ...]] = {
    "roster": (
        RowFault("id_bad_checksum", "id_number", _id(lambda v, ctx: _bad_checksum(v)),
                 "校验位错误的身份证号"),
        RowFault("id_excel_mangled", "id_number", _id(lambda v, ctx: ctx.mangled(v)),
                 "身份证号被 Excel 存成数字单元格"),
        RowFault("birth_date_mismatch", "birth_date", _shift_birth, "出生日期与身份证号不一致"),
        RowFault("required_missing", "post_title", _raw("post_title", None), "现任职务为空"),
        RowFault("unknown_code", "post_level", _code("post_level", "正处级"),
                 "职务层次填了职级“正处级”"),
    ),
    "annual_assessment": (
        RowFault("id_excel_mangled", "id_number", _id(lambda v, ctx: ctx.mangled(v)),
                 "身份证号为科学计数法文本"),
        RowFault("out_of_range", "votes_incompetent", _raw("votes_incompetent", -1), "不称职票为负数"),
        RowFault("out_of_range", "score_ability", _raw("score_ability", 105), "“能”得分超过100"),
        RowFault("unknown_code", "grade", _code("grade", "良好"), "考核等次填“良好”"),
        RowFault("required_missing", "name", _raw("name", None), "姓名为空"),
    ),
    "inspection_finding": (
        RowFault("id_bad_format", "id_number",
                 _id(lambda v, ctx: v[:10] + v[11:]), "身份证号少一位（17位）"),
        RowFault("duplicate_key", "finding_id", lambda row, ctx, c: {}, "问题编号重复（两行）",
                 duplicate=True),
        RowFault("required_if_missing", "tolerance_basis", _tolerated_without_basis,
                 "容错免责为“是”但容错依据为空"),
        RowFault("bad_date", "found_on", _date("found_on", "{year}年2月30日"), "发现日期不存在"),
        RowFault("unknown_code", "severity", _code("severity", "特别严重"), "严重程度代码错误"),
    ),
    "audit_finding": (
        RowFault("bad_decimal", "amount_wan", _raw("amount_wan", "1,2OO.50"),
                 "涉及金额含字母O"),
        RowFault("bad_date", "reported_on", _date("reported_on", "{year}/02/30"), "报告日期不存在"),
        RowFault("unknown_code", "audit_type", _code("audit_type", "任中审计"), "审计类型代码错误"),
        RowFault("id_bad_checksum", "id_number", _id(lambda v, ctx: _bad_checksum(v)),
                 "校验位错误的身份证号"),
    ),
    "petition_verification": (
        RowFault("required_if_missing", "conclusion", _closed_without_conclusion,
                 "已办结但核查结论为空"),
        RowFault("duplicate_key", "case_id", lambda row, ctx, c: {}, "件号重复（两行）",
                 duplicate=True),
        RowFault("unknown_code", "category", _code("category", "生活作风问题"), "反映问题类别代码错误"),
        RowFault("bad_date", "received_on", _date("received_on", "{year}-13-01"), "受理日期月份为13"),
    ),
    "personal_report_check": (
        RowFault("out_of_range", "item_count", _negative_count, "涉及件数为负数"),
        RowFault("required_if_missing", "items", _missing_items, "查核结果为漏报但不一致事项为空"),
        RowFault("unknown_code", "items", _unknown_item, "不一致事项含未知代码“股票”"),
        RowFault("bad_date", "checked_on", _date("checked_on", "待核实"), "查核日期不是日期"),
    ),
    "sanction": (
        RowFault("unknown_code", "measure", _code("measure", "警告"), "措施类别只写“警告”"),
        RowFault("required_missing", "reason_category", _raw("reason_category", None),
                 "事由类别为空"),
        RowFault("bad_date", "decided_on", _date("decided_on", "{year}-06-31"), "决定日期为6月31日"),
    ),
}
# The unit whose row-fault file each source gets (petitions: the JSON sender).
ROW_FAULT_UNIT = {"petition_verification": "PET"}


def _expected_id_reason(value: Any, reason: str) -> None:
    got = idcard.problem(value if isinstance(value, str) else repr(value))
    if got != reason:
        raise ValueError(f"planted ID {value!r} gives {got}, not {reason}")


def _template(rows: pd.DataFrame) -> Row:
    """The most complete clean row near the top: faults start from a row with every field."""
    head = rows.head(200)
    fullest = head.notna().sum(axis=1).to_numpy().argmax()
    return dict(head.iloc[int(fullest)])


def _differ(row: Row, contract: Contract) -> None:
    """Change one non-key code so a duplicate pair is not two identical rows."""
    for f in contract.fields:
        if f.type == "code" and f.name not in contract.key and f.required and len(f.codes) > 1:
            row[f.name] = next(c for c in f.codes if c != row[f.name])
            return


def _check_keys(contract: Contract, rows: pd.DataFrame, planted: set[int], where: str) -> None:
    """Only the planted duplicate pair may share a key; anything else would add issues."""
    dup = set(np.flatnonzero(key_of(contract, rows).duplicated(keep=False).to_numpy()).tolist())
    if dup != planted:
        raise ValueError(f"{where}: unexpected duplicate keys at rows {sorted(dup - planted)}")


def row_fault_file(world: World, out_dir: Path, source: str, file_format: str | None,
                   phantoms: list[str]) -> FileEntry:
    """One file of ``source`` with every row fault of that source planted once."""
    contract = load_contract(source)
    unit = ROW_FAULT_UNIT.get(source, units_for_source(source)[0])
    year = world.end_year
    if source == "roster":
        base = world.cadres
    else:
        facts = world.facts[source]
        base = facts[(facts["_unit"] == unit) & (facts["_year"] == year)].head(6)
    plan = default_plan(unit, source, year, world.years)
    stem, ext = plan.filename.rsplit(".", 1)
    plan = replace(plan, filename=f"{stem}_含错误行.{ext}", extra_columns=(), shuffle=False)
    if file_format == "csv":
        plan = plan.as_csv()
    ctx = Ctx(world, plan.format, world.rng(f"faults:{source}"), year)
    template = _template(base)
    bad_rows: list[Row] = []
    bad_cells: list[dict[str, Raw]] = []
    bad_issues: list[tuple[str, str]] = []
    for fault in ROW_FAULTS[source]:
        row = dict(template)
        ctx.phantom(row, contract)
        cells = fault.edit(row, ctx, contract)
        if "id_number" in cells:
            _expected_id_reason(cells["id_number"].value, fault.reason)
        copies = [row]
        if fault.duplicate:
            twin = dict(row)
            _differ(twin, contract)
            copies.append(twin)
        for r in copies:
            bad_rows.append(r)
            bad_cells.append(cells)
            bad_issues.append((fault.field, fault.reason))
    phantoms.extend(ctx.phantoms)

    bad = typed_frame(contract, pd.DataFrame(bad_rows).drop(columns=["_unit", "_year"],
                                                             errors="ignore"))
    good = typed_frame(contract, base.drop(columns=["_unit", "_year"], errors="ignore"))
    total = len(good) + len(bad)
    at = np.sort(ctx.rng.choice(total, size=len(bad), replace=False))
    order = np.empty(total, dtype=np.int64)
    is_bad = np.zeros(total, dtype=bool)
    is_bad[at] = True
    order[~is_bad] = np.arange(len(good))
    order[is_bad] = len(good) + np.arange(len(bad))
    rows = pd.concat([good, bad], ignore_index=True).iloc[order].reset_index(drop=True)
    _check_keys(contract, rows, {int(p) for p, (_, r) in zip(at, bad_issues, strict=True)
                                 if r == "duplicate_key"}, plan.relpath)
    overrides = {(int(pos), name): raw for pos, cells in zip(at, bad_cells, strict=True)
                 for name, raw in cells.items()}
    written = write_table(out_dir, plan, contract, rows, ctx.rng, overrides=overrides)
    issues = [ExpectedIssue(plan.source_row(int(pos)), name, reason)
              for pos, (name, reason) in zip(at, bad_issues, strict=True)]
    faults_text = "；".join(f.what for f in ROW_FAULTS[source])
    return FileEntry(
        path=plan.relpath, unit=unit, source=source, format=plan.format, encoding=plan.encoding,
        kind="fault", year=year, header_row=plan.header_row, rows_written=written.rows,
        expected_status="partially_accepted",
        expected_accepted_rows=written.rows - len({i.source_row for i in issues}),
        expected_quarantined=sorted(issues, key=lambda i: (i.source_row or 0, i.column or "")),
        description=f"行级错误样例（每行一个错误）：{faults_text}",
    )


def whole_file_faults(world: World, out_dir: Path, file_format: str | None) -> list[FileEntry]:
    """The refused files: unit not allowed, unreadable, no rows, missing required column."""
    year = world.end_year
    entries = []
    csv_mode = file_format == "csv"

    def entry(plan: FilePlan, rows: int, reason: str, detail: str | None, what: str) -> FileEntry:
        return FileEntry(path=plan.relpath, unit=plan.unit, source=plan.source,
                         format=plan.format, encoding=plan.encoding, kind="fault", year=year,
                         header_row=None if reason == "unreadable_file" else plan.header_row,
                         rows_written=rows, expected_status="refused", expected_accepted_rows=0,
                         expected_refusal_reason=reason, expected_refusal_detail=detail,
                         description=what)

    # 1. a unit sending a source it may not send: the audit office sends sanctions
    source = "sanction"
    wrong_unit = next(u for u in ("AUD", "INS", "PET") if u not in units_for_source(source))
    plan = FilePlan(wrong_unit, source, f"{year}年处分决定_审计局误报.csv", "csv", "gbk")
    plan = plan.as_csv() if csv_mode else plan
    rows = world.facts[source].head(3)
    written = write_table(out_dir, plan, load_contract(source), rows, world.rng("faults:unit"))
    entries.append(entry(plan, written.rows, "unit_not_allowed", wrong_unit,
                         f"{wrong_unit} 无权报送 {source}"))

    # 2. a corrupt file: a truncated zip behind an .xlsx name (CSV mode: undecodable bytes)
    rng = world.rng("faults:unreadable")
    noise = rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
    if csv_mode:
        plan = FilePlan("INS", "inspection_finding", f"{year}年巡视巡察问题清单_文件损坏.csv",
                        "csv", None)
        payload = b"\x00\xff\x81\xff" + noise.replace(b"\n", b"\xff") + b"\xff\x00"
    else:
        plan = FilePlan("INS", "inspection_finding", f"{year}年巡视巡察问题清单_文件损坏.xlsx",
                        "xlsx", None)
        payload = b"PK\x03\x04\x14\x00\x06\x00" + noise
    path = out_dir / plan.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    entries.append(entry(plan, 0, "unreadable_file", None, "文件损坏，无法打开"))

    # 3. a header without rows
    source = "audit_finding"
    plan = FilePlan("AUD", source, f"{year}年审计发现问题_空表.csv", "csv",
                    "utf-8" if csv_mode else "utf-8-sig")
    write_table(out_dir, plan, load_contract(source), world.facts[source].head(0),
                world.rng("faults:empty"))
    entries.append(entry(plan, 0, "no_rows", None, "只有表头，没有数据行"))

    # 4. a required column left out
    source, missing = "annual_assessment", "grade"
    plan = FilePlan("ORG", source, f"{year}年度考核结果_缺考核等次列.csv", "csv",
                    "utf-8" if csv_mode else "gbk")
    facts = world.facts[source]
    written = write_table(out_dir, plan, load_contract(source),
                          facts[facts["_year"] == year].head(3), world.rng("faults:column"),
                          drop_fields=(missing,))
    entries.append(entry(plan, written.rows, "missing_required_column", missing,
                         "缺少必填列“考核等次”"))
    return entries


def write_faults(world: World, out_dir: Path, file_format: str | None) -> tuple[list[FileEntry],
                                                                                list[str]]:
    """All fault files; returns their manifest entries and the phantom IDs used."""
    phantoms: list[str] = []
    entries = [row_fault_file(world, out_dir, source, file_format, phantoms)
               for source in ROW_FAULTS]
    entries += whole_file_faults(world, out_dir, file_format)
    return entries, phantoms
