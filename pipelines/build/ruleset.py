"""The rule set: ``ruleset.yaml`` (numbers) plus one SQL file per rule (logic and metadata).

Why configuration: rules.md makes every number a default that a jurisdiction changes without
touching code. Why a digest beside the declared version: a copied file whose numbers changed but
whose ``version`` did not must still be told apart on every flag it raises, so the digest covers
the YAML bytes and every rule file's text.

Validation is strict and early (at load, before any SQL runs) because a typo in a category or a
post level would otherwise silently match nothing and hide candidates.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from pipelines import settings
from pipelines.contracts import load_contract

DIMENSIONS: dict[str, str] = {"virtue": "德", "ability": "能", "diligence": "勤",
                              "performance": "绩", "integrity": "廉"}
SEVERITIES = ("candidate", "warning", "blocks_promotion")
SEVERITY_ZH: dict[str, str] = {"candidate": "不适宜担任现职人选", "warning": "预警",
                               "blocks_promotion": "影响期（不得提拔）"}
CLASS_FIELDS = ("post_level", "post_category", "sector")
HEADER_KEYS = ("id", "title", "severity", "dimension", "basis")
BASIS_TAG = re.compile(r"\[(V|S|R|I)\]")
# Contract field holding the code that dimension_map / severity keys refer to, per source.
CATEGORY_FIELD = {"annual_assessment": None, "inspection_finding": "category",
                  "audit_finding": "category", "petition_verification": "category",
                  "personal_report_check": "result", "sanction": "reason_category"}
SEVERITY_FIELD = {"petition_verification": "conclusion", "personal_report_check": "result",
                  "sanction": "measure"}
PSEUDO_CATEGORIES = {"annual_assessment": {"民主测评偏低"}, "inspection_finding": {"逾期未整改"},
                     "audit_finding": {"审计评价较差", "default", "large_amount", "referred"}}


class RulesetError(ValueError):
    """The rule set cannot be used as written; the message names the file and the entry."""


@dataclass(frozen=True)
class FairnessParams:
    """The disparity monitor's numbers (``fairness:`` in ruleset.yaml, docs/reviews.md)."""

    min_group: int  # a group with fewer cadres in scope is 样本不足, never a breach
    impact_ratio_threshold: float  # rate / lowest rate above this (1.25 = 4/5 inverted)
    alpha: float  # significance level for the Holm-corrected p-value
    trend_periods: int  # periods in the trend table, the one asked for included
    publish_min_cell: int  # analysts' snapshot: counts below this are suppressed


def fairness_params(config: dict[str, Any], where: str = "ruleset.yaml") -> FairnessParams:
    """The ``fairness:`` section, checked: a wrong number here would hide or invent breaches."""
    section = config.get("fairness")
    if not isinstance(section, dict):
        raise RulesetError(f"{where}: fairness: section is missing")
    fields = FairnessParams.__dataclass_fields__
    unknown, missing = set(section) - set(fields), set(fields) - set(section)
    if unknown or missing:
        raise RulesetError(f"{where}: fairness: unknown {sorted(unknown)}, "
                           f"missing {sorted(missing)}")
    params = FairnessParams(
        min_group=int(number(section["min_group"], f"{where}: fairness.min_group")),
        impact_ratio_threshold=number(section["impact_ratio_threshold"],
                                      f"{where}: fairness.impact_ratio_threshold"),
        alpha=number(section["alpha"], f"{where}: fairness.alpha"),
        trend_periods=int(number(section["trend_periods"], f"{where}: fairness.trend_periods")),
        publish_min_cell=int(number(section["publish_min_cell"],
                                    f"{where}: fairness.publish_min_cell")))
    if params.min_group < 2:
        raise RulesetError(f"{where}: fairness.min_group must be at least 2")
    if params.impact_ratio_threshold <= 1:
        raise RulesetError(f"{where}: fairness.impact_ratio_threshold must be above 1 "
                           "(group rate / lowest rate of a harmful outcome)")
    if not 0 < params.alpha < 1:
        raise RulesetError(f"{where}: fairness.alpha must be between 0 and 1")
    if not 1 <= params.trend_periods <= 12:
        raise RulesetError(f"{where}: fairness.trend_periods must be 1 to 12")
    if params.publish_min_cell < 1:
        raise RulesetError(f"{where}: fairness.publish_min_cell must be at least 1")
    return params


@dataclass(frozen=True)
class RuleSpec:
    """One rule: metadata from its SQL header, the SQL itself, and where it lives."""

    id: str
    title: str
    severity: str
    dimension: str
    basis: str
    path: Path
    sql: str

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted(set(BASIS_TAG.findall(self.basis))))


@dataclass(frozen=True)
class Ruleset:
    path: Path
    version: str
    digest: str
    jurisdiction: str
    rules: tuple[RuleSpec, ...]
    params: dict[str, float]
    overrides: tuple[tuple[dict[str, str], dict[str, float]], ...]
    config: dict[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        """What every flag records: declared version plus the content digest."""
        return f"{self.version}+{self.digest[:12]}"

    def rule(self, rule_id: str) -> RuleSpec:
        return next(r for r in self.rules if r.id == rule_id)


def default_path() -> Path:
    return Path(settings.get("CADRE_RULESET"))


def parse_header(sql: str) -> dict[str, str]:
    """``-- key: value`` lines at the top of a rule file, up to the first non-comment line."""
    header: dict[str, str] = {}
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        match = re.match(r"--\s*(\w+):\s*(.+)$", line)
        if match and match.group(1) in HEADER_KEYS and match.group(1) not in header:
            header[match.group(1)] = match.group(2).strip()
    return header


def read_rule(path: Path) -> RuleSpec:
    """A rule file with a complete header, or an error naming what is missing."""
    sql = path.read_text(encoding="utf-8")
    header = parse_header(sql)
    missing = [k for k in HEADER_KEYS if k not in header]
    if missing:
        raise RulesetError(f"{path.name}: header lacks {', '.join(missing)}")
    if header["severity"] not in SEVERITIES:
        raise RulesetError(f"{path.name}: severity {header['severity']!r} not in {SEVERITIES}")
    dims = [d.strip() for d in header["dimension"].split(",")]
    if any(d not in (*DIMENSIONS, "any") for d in dims):
        raise RulesetError(f"{path.name}: dimension {header['dimension']!r} unknown")
    if not BASIS_TAG.search(header["basis"]):
        raise RulesetError(f"{path.name}: basis needs a [V]/[S]/[R]/[I] tag")
    if not path.stem.startswith(header["id"] + "_"):
        raise RulesetError(f"{path.name}: file name must start with its id {header['id']}_")
    return RuleSpec(id=header["id"], title=header["title"], severity=header["severity"],
                    dimension=header["dimension"], basis=header["basis"], path=path, sql=sql)


def rule_files(rules_dir: Path) -> dict[str, Path]:
    """Rule id -> SQL file, for every ``<ID>_<name>.sql`` in the folder."""
    return {p.name.split("_", 1)[0]: p for p in sorted(rules_dir.glob("*_*.sql"))}


def number(value: Any, where: str) -> float:
    """A YAML number or fraction string ("2/3") as float; exact for comparisons of ratios."""
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError) as exc:
        raise RulesetError(f"{where}: {value!r} is not a number") from exc


def flat_name(dotted: str) -> str:
    """``U1.min_amount_wan`` -> ``u1_min_amount_wan``: the column name in SQL."""
    return dotted.replace(".", "_").lower()


def _codes(source: str, field_name: str | None) -> set[str]:
    if field_name is None:
        return set()
    return set(load_contract(source).field(field_name).codes)


def _check_codes(config: dict[str, Any]) -> None:
    for source, mapping in config["dimension_map"].items():
        allowed = _codes(source, CATEGORY_FIELD[source]) | PSEUDO_CATEGORIES.get(source, set())
        for category, dims in mapping.items():
            if category not in allowed:
                raise RulesetError(f"dimension_map.{source}: {category!r} is not a code")
            if any(d not in DIMENSIONS for d in dims):
                raise RulesetError(f"dimension_map.{source}.{category}: unknown dimension")
    levels = set(config["profile"]["severity_points"])
    if levels != _codes("inspection_finding", "severity"):
        raise RulesetError("profile.severity_points must cover exactly 一般/较重/严重")
    for source, mapping in config["severity"].items():
        allowed = (_codes(source, SEVERITY_FIELD.get(source))
                   | PSEUDO_CATEGORIES.get(source, set()))
        for code, level in mapping.items():
            if code not in allowed or level not in levels:
                raise RulesetError(f"severity.{source}: {code!r}: {level!r} not allowed")
    measures = _codes("sanction", "measure")
    if set(config["influence_periods"]) != measures:
        raise RulesetError(f"influence_periods must list every measure: {sorted(measures)}")
    if not set(config["profile"]["grade_base"]) <= _codes("annual_assessment", "grade"):
        raise RulesetError("profile.grade_base: unknown grade")


def _flat_params(config: dict[str, Any], where: str) -> dict[str, float]:
    params = {f"{rid}.{k}": number(v, f"{where}.rules.{rid}.{k}")
              for rid, values in config["rules"].items() for k, v in (values or {}).items()}
    params.update({f"threshold.{k}": number(v, f"{where}.thresholds.{k}")
                   for k, v in config["thresholds"].items()})
    params["profile.look_back_months"] = number(config["profile"]["look_back_months"], where)
    return {flat_name(k): v for k, v in params.items()}


def _overrides(config: dict[str, Any], params: dict[str, float],
               where: str) -> tuple[tuple[dict[str, str], dict[str, float]], ...]:
    roster = load_contract("roster")
    result = []
    for i, entry in enumerate(config.get("overrides") or []):
        when = {str(k): str(v) for k, v in entry["when"].items()}
        for key, value in when.items():
            if key not in CLASS_FIELDS or value not in roster.field(key).codes:
                raise RulesetError(f"{where}: overrides[{i}].when {key}={value!r} unknown")
        sets = {flat_name(k): number(v, f"{where}: overrides[{i}].{k}")
                for k, v in entry["set"].items()}
        unknown = set(sets) - set(params)
        if unknown:
            raise RulesetError(f"{where}: overrides[{i}] sets unknown {sorted(unknown)}")
        result.append((when, sets))
    return tuple(result)


def load(path: Path | None = None) -> Ruleset:
    """Read, validate and fingerprint a rule set; raises RulesetError with the reason."""
    path = (path or default_path()).resolve()
    text = path.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    rules_dir = (path.parent / config.get("rules_dir", ".")).resolve()
    files = rule_files(rules_dir)
    specs = []
    for rule_id in config["rules"]:
        if rule_id not in files:
            raise RulesetError(f"{path.name}: rule {rule_id} has no SQL file in {rules_dir}")
        specs.append(read_rule(files[rule_id]))
    if set(config["thresholds"]) != {*DIMENSIONS, "overall"}:
        raise RulesetError(f"{path.name}: thresholds must name the five dimensions + overall")
    unknown = set(config.get("persistent_warnings", [])) - set(config["rules"])
    if unknown:
        raise RulesetError(f"{path.name}: persistent_warnings names unknown {sorted(unknown)}")
    _check_codes(config)
    fairness_params(config, path.name)
    params = _flat_params(config, path.name)
    digest = hashlib.sha256(text.encode("utf-8"))
    for spec in specs:
        digest.update(spec.sql.encode("utf-8"))
    return Ruleset(path=path, version=str(config["version"]), digest=digest.hexdigest(),
                   jurisdiction=str(config.get("jurisdiction", "")), rules=tuple(specs),
                   params=params, overrides=_overrides(config, params, path.name),
                   config=config)


def class_parameters(ruleset: Ruleset, classes: list[tuple[str, str, str]]) -> list[dict]:
    """One row per post class with every parameter resolved: most specific override wins."""
    rows = []
    for level, category, sector in classes:
        values = dict(ruleset.params)
        post = dict(zip(CLASS_FIELDS, (level, category, sector), strict=True))
        matching = [(len(when), i, sets) for i, (when, sets) in enumerate(ruleset.overrides)
                    if all(post[k] == v for k, v in when.items())]
        for _, _, sets in sorted(matching, key=lambda m: (m[0], m[1])):
            values.update(sets)
        rows.append({**post, **values})
    return rows
