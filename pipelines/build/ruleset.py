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


# What each parameter of the default rules is, so a typo or a meaningless value is refused when
# the rule set loads, not discovered as a silent non-match later. Kinds:
# window = look-back in months: a positive whole number, or null (explicit "no limit"; present);
# months / count = a positive whole number; ratio = a fraction in (0, 1]; amount = a number >= 0.
RULE_PARAMS: dict[str, dict[str, str]] = {
    "A1": {}, "A2": {"consecutive_years": "count"},
    "A3": {"min_approval_ratio": "ratio", "consecutive_years": "count"},
    "A4": {"max_incompetent_ratio": "ratio"},
    "A5": {"max_incompetent_ratio": "ratio", "min_approval_ratio": "ratio"},
    "P1": {"window_months": "window"},
    "P2": {"min_omissions": "count", "report_years": "count"},
    "V1": {"window_months": "window"}, "V2": {"window_months": "window"},
    "I1": {"window_months": "window"},
    "I2": {"default_rectify_months": "months", "stalled_months": "months"},
    "U1": {"min_amount_wan": "amount", "window_months": "window"},
    "U2": {"window_months": "window"}, "D1": {}, "S1": {}, "R1": {"observation_months": "months"},
}
TOP_LEVEL_KEYS = {"version", "jurisdiction", "rules_dir", "rules", "persistent_warnings",
                  "assessment_years", "profile", "thresholds", "dimension_map", "severity",
                  "influence_periods", "review", "fairness"}
PROFILE_KEYS = {"look_back_months": "months", "history_years": "count",
                "base_without_assessment": "score", "grade_base": None, "weights": None,
                "severity_points": None, "responsibility_weight": None}


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
class Override:
    """One number a jurisdiction profile changes for a post class, with the basis written
    next to it (rules.md: a stricter number is never the default and always says why)."""

    when: dict[str, str]  # post_level / post_category / sector -> code
    parameter: str  # flat name, e.g. threshold_virtue, u1_min_amount_wan
    dotted: str  # as written, e.g. threshold.virtue
    value: float
    basis: str

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted(set(BASIS_TAG.findall(self.basis))))


@dataclass(frozen=True)
class Profile:
    """A named jurisdiction profile: stricter numbers per post class, each with its basis."""

    name: str
    title: str
    path: Path
    overrides: tuple[Override, ...]


DEFAULT_PROFILE = "默认（rules.md）"  # what rows record when no profile is selected


@dataclass(frozen=True)
class Ruleset:
    path: Path
    version: str
    digest: str
    jurisdiction: str
    rules: tuple[RuleSpec, ...]
    params: dict[str, float | None]
    profile: Profile | None
    config: dict[str, Any] = field(repr=False)

    @property
    def profile_name(self) -> str:
        """What every row records as the profile that produced it."""
        return self.profile.name if self.profile else DEFAULT_PROFILE

    @property
    def overrides(self) -> tuple[Override, ...]:
        return self.profile.overrides if self.profile else ()

    @property
    def label(self) -> str:
        """What every flag records: declared version plus the content digest."""
        return f"{self.version}+{self.digest[:12]}"

    def rule(self, rule_id: str) -> RuleSpec:
        return next(r for r in self.rules if r.id == rule_id)


def default_path() -> Path:
    return Path(settings.get("CADRE_RULESET"))


def default_profile() -> str:
    """The jurisdiction profile selected in settings; empty = the written rules only."""
    return settings.get("CADRE_RULESET_PROFILE").strip()


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


def checked(value: Any, kind: str, where: str) -> float | None:
    """A parameter value of ``kind`` (see RULE_PARAMS), or a RulesetError saying what is wrong."""
    if value is None:
        if kind == "window":
            return None
        raise RulesetError(f"{where}: a value is required (null is only allowed for a "
                           "window_months, where it means no limit)")
    if isinstance(value, bool):
        raise RulesetError(f"{where}: {value!r} is not a number")
    result = number(value, where)
    if kind in ("window", "months", "count"):
        if result != int(result) or result <= 0:
            extra = (" (write null for no limit; 0 is not allowed)"
                     if kind == "window" else "")
            raise RulesetError(f"{where}: {value!r} must be a positive whole number{extra}")
    elif kind == "ratio" and not 0 < result <= 1:
        raise RulesetError(f"{where}: {value!r} must be a fraction above 0 and at most 1")
    elif kind in ("amount", "score") and result < 0:
        raise RulesetError(f"{where}: {value!r} must not be negative")
    elif kind == "score" and result > 100:
        raise RulesetError(f"{where}: {value!r} must be a score from 0 to 100")
    return result


RESPONSIBILITIES = ("直接责任", "领导责任", "不适用")
BLANK_RESPONSIBILITY = "未注明"  # a finding sent without 责任类型


def responsibility_weights(config: dict[str, Any]) -> dict[str, float]:
    """Weights per responsibility, plus the blank one: rules.md "Responsibility unknown" — a
    blank 责任类型 weighs as 领导责任 (the lower weight), never as 直接责任."""
    weights = {k: number(v, f"responsibility_weight.{k}")
               for k, v in config["profile"]["responsibility_weight"].items()}
    return {**weights, BLANK_RESPONSIBILITY: weights["领导责任"]}


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


def _param_kind(rule_id: str, name: str) -> str:
    """Kind of a parameter; a rule of a jurisdiction's own (not in RULE_PARAMS) is judged by name."""
    if rule_id in RULE_PARAMS:
        return RULE_PARAMS[rule_id][name]
    if name == "window_months":
        return "window"
    return "months" if name.endswith("_months") else "amount"


def _check_structure(config: Any, where: str) -> None:
    """The shape of the whole file: known sections, every default rule's parameters present
    and no unknown ones, every number of the right kind. Messages name the entry."""
    if not isinstance(config, dict):
        raise RulesetError(f"{where}: not a YAML mapping")
    unknown = set(config) - TOP_LEVEL_KEYS
    if "overrides" in unknown:
        raise RulesetError(f"{where}: class overrides belong in a jurisdiction profile "
                           "(profiles/<name>.yaml, each number with its basis, selected by "
                           "CADRE_RULESET_PROFILE), not in the rule set itself")
    if unknown:
        raise RulesetError(f"{where}: unknown section(s) {sorted(unknown)}")
    missing = {"version", "rules", "profile", "thresholds", "dimension_map", "severity",
               "influence_periods", "assessment_years"} - set(config)
    if missing:
        raise RulesetError(f"{where}: missing section(s) {sorted(missing)}")
    if not isinstance(config["rules"], dict) or not config["rules"]:
        raise RulesetError(f"{where}: rules: must map rule ids to their parameters")
    for rule_id, values in config["rules"].items():
        values = values or {}
        if not isinstance(values, dict):
            raise RulesetError(f"{where}: rules.{rule_id}: parameters must be a mapping")
        if rule_id in RULE_PARAMS:
            expected = RULE_PARAMS[rule_id]
            extra = set(values) - set(expected)
            if extra:
                raise RulesetError(f"{where}: rules.{rule_id}: unknown parameter(s) "
                                   f"{sorted(extra)}; {rule_id} takes {sorted(expected) or 'none'}")
            absent = set(expected) - set(values)
            if absent:
                raise RulesetError(f"{where}: rules.{rule_id}: missing {sorted(absent)} "
                                   "(a window with no limit is written as null)")
        for name, value in values.items():
            checked(value, _param_kind(rule_id, name), f"{where}: rules.{rule_id}.{name}")
    extra = set(config["profile"] or {}) - set(PROFILE_KEYS)
    if extra:
        raise RulesetError(f"{where}: profile: unknown key(s) {sorted(extra)}")
    for name, kind in PROFILE_KEYS.items():
        if name not in (config["profile"] or {}):
            raise RulesetError(f"{where}: profile.{name} is missing")
        if kind:
            checked(config["profile"][name], kind, f"{where}: profile.{name}")
    weights = config["profile"]["responsibility_weight"]
    if not isinstance(weights, dict) or set(weights) != set(RESPONSIBILITIES):
        raise RulesetError(f"{where}: profile.responsibility_weight must weigh exactly "
                           f"{'/'.join(RESPONSIBILITIES)} (a blank weighs as 领导责任)")
    for name, value in weights.items():
        checked(value, "amount", f"{where}: profile.responsibility_weight.{name}")
    if number(weights["领导责任"], where) > number(weights["直接责任"], where):
        raise RulesetError(f"{where}: profile.responsibility_weight: 领导责任 must not weigh "
                           "more than 直接责任 (rules.md: 直接责任 > 领导责任)")
    for name, value in config["thresholds"].items():
        checked(value, "score", f"{where}: thresholds.{name}")
    years = checked(config["assessment_years"], "count", f"{where}: assessment_years")
    for rule_id in ("A2", "A3"):
        run = (config["rules"].get(rule_id) or {}).get("consecutive_years")
        if years is not None and isinstance(run, int) and run > years:
            raise RulesetError(f"{where}: rules.{rule_id}.consecutive_years ({run}) cannot "
                               f"exceed assessment_years ({int(years)}): A1-A5 read no older year")
    for measure, entry in (config["influence_periods"] or {}).items():
        for name, value in (entry or {}).items():
            if name == "end_date_required":
                if not isinstance(value, bool):
                    raise RulesetError(f"{where}: influence_periods.{measure}.{name}: true/false")
                continue
            if name not in ("months", "no_leading_post_months"):
                raise RulesetError(f"{where}: influence_periods.{measure}: unknown {name!r}"
                                   " (a term is never assumed: use end_date_required)")
            if value != 0:
                checked(value, "months", f"{where}: influence_periods.{measure}.{name}")


def _flat_params(config: dict[str, Any], where: str) -> dict[str, float | None]:
    params: dict[str, float | None] = {
        f"{rid}.{k}": checked(v, _param_kind(rid, k), f"{where}: rules.{rid}.{k}")
        for rid, values in config["rules"].items() for k, v in (values or {}).items()}
    params.update({f"threshold.{k}": number(v, f"{where}.thresholds.{k}")
                   for k, v in config["thresholds"].items()})
    params["profile.look_back_months"] = number(config["profile"]["look_back_months"], where)
    return {flat_name(k): v for k, v in params.items()}


def profile_path(ruleset_path: Path, name: str) -> Path:
    """A profile by name (``profiles/<name>.yaml`` beside the rule set) or by file path."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate if candidate.is_absolute() else (Path.cwd() / candidate)
    return ruleset_path.parent / "profiles" / f"{name}.yaml"


def load_profile(path: Path, params: dict[str, float | None]) -> Profile:
    """Read and check a jurisdiction profile; every number must carry its basis with a tag."""
    where = path.name
    if not path.exists():
        raise RulesetError(f"jurisdiction profile {path} not found")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesetError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(config, dict) or set(config) - {"profile", "title_zh", "overrides"}:
        raise RulesetError(f"{where}: a profile holds profile, title_zh and overrides only")
    name = str(config.get("profile") or "").strip()
    if not name:
        raise RulesetError(f"{where}: profile: (its name) is required")
    roster = load_contract("roster")
    result = []
    for i, entry in enumerate(config.get("overrides") or []):
        at = f"{where}: overrides[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"when", "set"}:
            raise RulesetError(f"{at}: needs exactly when: and set:")
        when = {str(k): str(v) for k, v in (entry["when"] or {}).items()}
        if not when:
            raise RulesetError(f"{at}.when: name a post class (a profile never changes "
                               "the default for everybody: edit a copy of the rule set for that)")
        for key, value in when.items():
            if key not in CLASS_FIELDS or value not in roster.field(key).codes:
                raise RulesetError(f"{at}.when {key}={value!r} unknown")
        for dotted, spec in (entry["set"] or {}).items():
            if not isinstance(spec, dict) or set(spec) != {"value", "basis"}:
                raise RulesetError(f"{at}.set.{dotted}: write {{value: N, basis: \"... [V/S/R/I]\"}}"
                                   ": every number of a profile carries its basis")
            basis = str(spec["basis"] or "")
            if not BASIS_TAG.search(basis):
                raise RulesetError(f"{at}.set.{dotted}: basis needs a [V]/[S]/[R]/[I] tag")
            flat = flat_name(dotted)
            if flat not in params:
                raise RulesetError(f"{at}.set: unknown parameter {dotted!r}")
            rule_id, _, param = dotted.partition(".")
            kind = ("score" if rule_id == "threshold" else "months" if rule_id == "profile"
                    else _param_kind(rule_id, param))
            value = checked(spec["value"], kind, f"{at}.set.{dotted}")
            result.append(Override(when=when, parameter=flat, dotted=dotted, value=value,
                                   basis=basis))
    return Profile(name=name, title=str(config.get("title_zh") or name), path=path,
                   overrides=tuple(result))


def load(path: Path | None = None, profile: str | None = None) -> Ruleset:
    """Read, validate and fingerprint a rule set and, when one is selected (argument, else the
    CADRE_RULESET_PROFILE setting), a jurisdiction profile; raises RulesetError with the reason."""
    path = (path or default_path()).resolve()
    profile = default_profile() if profile is None else profile.strip()
    text = path.read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesetError(f"{path.name}: not valid YAML: {exc}") from exc
    _check_structure(config, path.name)
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
    chosen = load_profile(profile_path(path, profile), params) if profile else None
    digest = hashlib.sha256(text.encode("utf-8"))
    for spec in specs:
        digest.update(spec.sql.encode("utf-8"))
    if chosen is not None:  # the same rules under another profile are another rule set
        digest.update(chosen.path.read_bytes())
    return Ruleset(path=path, version=str(config["version"]), digest=digest.hexdigest(),
                   jurisdiction=str(config.get("jurisdiction", "")), rules=tuple(specs),
                   params=params, profile=chosen, config=config)


def class_parameters(ruleset: Ruleset, classes: list[tuple[str, str, str]]) -> list[dict]:
    """One row per post class with every parameter resolved: most specific override wins."""
    rows = []
    for level, category, sector in classes:
        values = dict(ruleset.params)
        post = dict(zip(CLASS_FIELDS, (level, category, sector), strict=True))
        matching = [(len(o.when), i, o) for i, o in enumerate(ruleset.overrides)
                    if all(post[k] == v for k, v in o.when.items())]
        for _, _, override in sorted(matching, key=lambda m: (m[0], m[1])):
            values[override.parameter] = override.value
        rows.append({**post, **values})
    return rows
