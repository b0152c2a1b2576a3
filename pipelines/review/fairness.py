"""Disparity monitor ("watch the watchers"): do flags and decisions fall unevenly on one group?

Seed §5 asks that the mechanism itself be checked (定期盘点), and its standards be applied
evenly. HR calibration and the four-fifths rule of employment-selection audits start from the
same table, which this module computes per review period: for each grouping of cadres (unit,
sex, age band, post level, evidence source) and each harmful outcome (listed as candidate,
listed with warnings only, adjusted after review), per group the cadres in scope, those with the
outcome, the rate, the impact ratio and an exact test.

- **Counts** come from SQL (``warehouse/fairness/*.sql``, the view ``fairness.fairness_count``)
  over the same definitions as the candidate list, so they reconcile with it exactly.
- **Impact ratio** = the group's rate / the lowest rate among the groups large enough to judge
  (a harmful outcome: above 1 means the group fares worse). When that lowest rate is 0 and the
  group's is not, the ratio is unbounded: ``impact_ratio`` is null, ``ratio_unbounded`` true,
  and it counts as past any threshold.
- **p-value**: Fisher's exact test of the group against everyone else in the grouping, one-sided
  (is the group's rate higher?), Holm-corrected across the groups of one grouping and outcome
  that are large enough to judge (family-wise error; groups too small are not tested).
- **Status**: ``insufficient`` (样本不足) below ``min_group`` cadres, whatever the rate; ``breach``
  only when the ratio is past the threshold AND the corrected p-value is below ``alpha``;
  otherwise ``ok``. Numbers from ``fairness:`` in ruleset.yaml.

A breach is a signal to look at the evidence and where it came from (the drill-down names the
rules and the batches behind the group's flags), not proof of bias.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd
from scipy.stats import fisher_exact

from pipelines.build import ruleset
from pipelines.build.ruleset import FairnessParams
from pipelines.review import decisions
from pipelines.review import sql as review_sql
from pipelines.review.data import Period, choose_build, parse_period

log = logging.getLogger(__name__)
GROUPINGS = ("unit", "sex", "age_band", "post_level", "evidence_source")
OUTCOMES = ("candidate", "warning", "adjusted")
STATUSES = ("ok", "breach", "insufficient")
TABLE_COLUMNS = ("grouping", "group", "outcome", "in_scope", "with_outcome", "rate",
                 "impact_ratio", "p_value", "status")
CORRECTION = "holm"


def params() -> FairnessParams:
    """The monitor's numbers from the rule set (validated when the rule set loads)."""
    return ruleset.fairness_params(ruleset.load().config)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given): compare each with alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    m = len(p_values)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _family(family: pd.DataFrame, p: FairnessParams) -> list[dict[str, Any]]:
    """One grouping and outcome: rates, ratios against the lowest judged rate, tests, status."""
    total_n, total_k = int(family["in_scope"].sum()), int(family["with_outcome"].sum())
    rows = []
    for r in family.itertuples(index=False):
        n, k = int(r.in_scope), int(r.with_outcome)
        rows.append({"grouping": r.group_by, "group": r.group_value, "outcome": r.outcome,
                     "in_scope": n, "with_outcome": k, "rate": k / n if n else 0.0,
                     "judged": n >= p.min_group})
    judged = [row for row in rows if row["judged"]]
    lowest = min((row["rate"] for row in judged), default=None)
    tested = []
    for row in rows:
        rate = row["rate"]
        row["ratio_unbounded"] = lowest == 0 and rate > 0
        if lowest is None or row["ratio_unbounded"]:
            row["impact_ratio"] = None
        else:
            row["impact_ratio"] = 1.0 if lowest == 0 else rate / lowest
        row["p_raw"] = None
        rest_n, rest_k = total_n - row["in_scope"], total_k - row["with_outcome"]
        if row["judged"] and rest_n > 0:
            table = [[row["with_outcome"], row["in_scope"] - row["with_outcome"]],
                     [rest_k, rest_n - rest_k]]
            row["p_raw"] = float(fisher_exact(table, alternative="greater").pvalue)
            tested.append(row)
    for row, adjusted in zip(tested, holm([t["p_raw"] for t in tested]), strict=True):
        row["p_value"] = adjusted
    for row in rows:
        row.setdefault("p_value", None)
        past = row["ratio_unbounded"] or (row["impact_ratio"] is not None
                                          and row["impact_ratio"] > p.impact_ratio_threshold)
        if not row["judged"]:
            row["status"] = "insufficient"
        elif past and row["p_value"] is not None and row["p_value"] < p.alpha:
            row["status"] = "breach"
        else:
            row["status"] = "ok"
    return rows


def disparity_table(counts: pd.DataFrame, p: FairnessParams) -> pd.DataFrame:
    """The disparity table from the counts (``fairness.fairness_count`` rows: group_by,
    group_value, outcome, in_scope, with_outcome): data in, table out, no warehouse.

    Columns: TABLE_COLUMNS plus ``ratio_unbounded`` (lowest judged rate 0, this one not),
    ``p_raw`` (before correction) and ``judged`` (in_scope >= min_group)."""
    rows: list[dict[str, Any]] = []
    for (group_by, outcome), family in counts.groupby(["group_by", "outcome"], sort=False):
        del group_by, outcome
        rows.extend(_family(family, p))
    frame = pd.DataFrame(rows, columns=[*TABLE_COLUMNS, "ratio_unbounded", "p_raw", "judged"])
    if frame.empty:
        return frame
    frame["_g"] = frame["grouping"].map(GROUPINGS.index)
    frame["_o"] = frame["outcome"].map(OUTCOMES.index)
    frame = frame.sort_values(["_g", "_o", "group"]).drop(columns=["_g", "_o"])
    return frame.reset_index(drop=True)


def load_counts(con: duckdb.DuckDBPyConnection, build: date, period_end: date) -> pd.DataFrame:
    """``fairness.fairness_count`` for one build, ages taken at ``period_end``. The other
    review variables must be set (``review_sql.set_context``, once: it reads the rule set)."""
    con.execute("set variable review_as_of = ?::date", [period_end])
    con.execute("set variable review_build = ?::date", [build])
    return con.execute("select * from fairness.fairness_count").df()


DRILL_SQL = """
with cadre as (select * from fairness.fairness_cadre),
origin as (select * from fairness.flag_origin)
select origin.*, cadre.unit, cadre.sex, cadre.age_band, cadre.post_level,
    cadre.candidate as cadre_candidate, cadre.warning as cadre_warning
from origin join cadre using (id_number)
"""


def _drill(origin: pd.DataFrame, grouping: str, group: str, outcome: str) -> dict[str, Any]:
    """Where one group's flags of one outcome came from: rules, sources and batches."""
    column = "source" if grouping == "evidence_source" else grouping
    mine = origin[origin[column] == group]
    if outcome == "candidate":
        mine = mine[mine["cadre_candidate"] & (mine["severity"] == "candidate")]
    elif outcome == "warning":
        mine = mine[mine["cadre_warning"] & (mine["severity"] == "warning")]
    else:
        mine = mine[mine["adjusted"]]
    flags = mine.drop_duplicates("flag_id")
    rules = (flags.groupby("rule_id").agg(flags=("flag_id", "nunique"),
                                          cadres=("id_number", "nunique"))
             .reset_index().sort_values(["flags", "rule_id"], ascending=[False, True]))
    cited = mine[mine["source"].notna()]
    batches = (cited.groupby(["source", "batch_zh", "sent_by"], dropna=False)
               .agg(flags=("flag_id", "nunique"), evidence=("evidence_id", "nunique"),
                    cadres=("id_number", "nunique"))
               .reset_index().sort_values(["flags", "evidence"], ascending=False))
    return {"flags": int(flags["flag_id"].nunique()), "cadres": int(flags["id_number"].nunique()),
            "rules": rules.reset_index(drop=True), "batches": batches.reset_index(drop=True)}


@dataclass
class PeriodTable:
    period: Period
    build_as_of: date | None
    table: pd.DataFrame


@dataclass
class FairnessReport:
    period: Period
    build_as_of: date | None
    params: FairnessParams
    table: pd.DataFrame
    trend: list[PeriodTable] = field(default_factory=list)  # oldest first, this period last
    drilldown: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def breaches(self) -> pd.DataFrame:
        if self.table.empty:
            return self.table
        return self.table[self.table["status"] == "breach"]

    def to_json(self) -> dict[str, Any]:
        """The ``cadre report fairness --json`` shape (issue 12, item 6), exactly."""
        return {"period": self.period.label, "min_group": self.params.min_group,
                "threshold": self.params.impact_ratio_threshold,
                "rows": [json_row(r) for r in self.table.to_dict("records")]}


def _float(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"grouping": row["grouping"], "group": str(row["group"]), "outcome": row["outcome"],
            "in_scope": int(row["in_scope"]), "with_outcome": int(row["with_outcome"]),
            "rate": float(row["rate"]), "impact_ratio": _float(row["impact_ratio"]),
            "p_value": _float(row["p_value"]), "status": row["status"]}


def previous_periods(period: Period, count: int) -> list[Period]:
    """``count`` periods ending with ``period``, oldest first: half-years for a half-year,
    years for a year."""
    year, half = period.end.year, period.label[-1] if "H" in period.label else None
    labels = []
    for _ in range(count):
        if half is None:
            labels.append(str(year))
            year -= 1
        else:
            labels.append(f"{year}H{half}")
            year, half = (year, "1") if half == "2" else (year - 1, "2")
    return [parse_period(label) for label in reversed(labels)]


def _build_within(builds: list[date], period: Period) -> date | None:
    inside = [b for b in builds if period.start <= b <= period.end]
    return max(inside) if inside else None


def load_fairness(con: duckdb.DuckDBPyConnection, period: Period,
                  build: date | None = None) -> FairnessReport:
    """The period's disparity table (the build the review reads: on or before the period's end,
    else the earliest after), its breaches' drill-down, and the trend over the periods before
    (each read from the latest build dated inside it; a period without one is left out).
    Needs a writer connection (registers new flags first, like every review)."""
    decisions.sync_flags(con)
    p = params()
    builds = sorted(r[0] for r in con.execute(
        "select distinct as_of from decisions.build_source").fetchall())
    build = build or choose_build(con, period.end)
    review_sql.set_context(con, period.end, build)
    report = FairnessReport(period=period, build_as_of=build, params=p,
                            table=disparity_table(pd.DataFrame(columns=[
                                "group_by", "group_value", "outcome", "in_scope",
                                "with_outcome"]), p))
    if build is None:
        return report
    for earlier in previous_periods(period, p.trend_periods)[:-1]:
        earlier_build = _build_within(builds, earlier)
        if earlier_build is not None:
            table = disparity_table(load_counts(con, earlier_build, earlier.end), p)
            report.trend.append(PeriodTable(earlier, earlier_build, table))
    report.table = disparity_table(load_counts(con, build, period.end), p)
    report.trend.append(PeriodTable(period, build, report.table))
    if len(report.breaches):
        origin = con.execute(DRILL_SQL).df()
        for row in report.breaches.itertuples(index=False):
            key = (row.grouping, row.group, row.outcome)
            report.drilldown[key] = _drill(origin, *key)
    log.info("fairness %s (build %s): %d rows, %d breaches, %d insufficient", period.label,
             build, len(report.table), len(report.breaches),
             int((report.table["status"] == "insufficient").sum()))
    return report


# ---- the analysts' table -------------------------------------------------------------------

PUBLISHED_COLUMNS = ("period", "build_as_of", "grouping", "group_value", "outcome", "in_scope",
                     "with_outcome", "rate", "impact_ratio", "p_value", "status", "suppressed")
PARTITIONS = ("unit", "sex", "age_band", "post_level")  # each cadre in exactly one group


def suppress(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Small cells blanked so that no cadre can be singled out (plain function, data in/out).

    - fewer than ``min_cell`` cadres in scope: every count and figure of the row is blanked;
    - fewer than ``min_cell`` with the outcome (but some), or fewer than ``min_cell`` without it
      (everyone or nearly everyone has it): with_outcome and everything computed from it
      (rate, impact ratio, p-value) are blanked;
    - secondary suppression: in a grouping where each cadre is in one group, a single blanked
      count could be recovered from the total (another grouping shows it), so the next-smallest
      count of the same column is blanked too.
    ``suppressed`` says which row lost what ("in_scope", "with_outcome" or "")."""
    out = table.copy()
    out["suppressed"] = ""
    for col in ("in_scope", "with_outcome", "rate", "impact_ratio", "p_value"):
        out[col] = out[col].astype(object)
    small_n = out["in_scope"] < min_cell
    k, n = out["with_outcome"], out["in_scope"]
    small_k = ~small_n & (((k > 0) & (k < min_cell)) | (n - k < min_cell))
    out.loc[small_n, "suppressed"] = "in_scope"
    out.loc[small_k, "suppressed"] = "with_outcome"
    keys = [c for c in ("period", "grouping", "outcome") if c in out.columns]
    for index in out.groupby(keys, sort=False).groups.values():
        if out.loc[index, "grouping"].iloc[0] not in PARTITIONS:
            continue
        for level, hidden_if in (("in_scope", ("in_scope",)),
                                 ("with_outcome", ("in_scope", "with_outcome"))):
            family = out.loc[index]
            hidden = family["suppressed"].isin(hidden_if)
            if hidden.sum() == 1 and (~hidden).any():
                extra = family.loc[~hidden, level].astype(int).idxmin()
                out.loc[extra, "suppressed"] = level
    blank_all = out["suppressed"] == "in_scope"
    blank_k = out["suppressed"] != ""
    out.loc[blank_all, "in_scope"] = None
    for col in ("with_outcome", "rate", "impact_ratio", "p_value"):
        out.loc[blank_k, col] = None
    return out


def published_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last ``trend_periods`` half-years with a build inside them (each read from its latest
    build), suppressed for analysts. Bounded so that publishing does not slow down as builds
    accumulate; older periods were in the snapshots published then."""
    decisions.sync_flags(con)
    p = params()
    builds = sorted(r[0] for r in con.execute(
        "select distinct as_of from decisions.build_source").fetchall())
    review_sql.set_context(con, date.today())
    frames = []
    labels = sorted({f"{b.year}H{1 if b.month <= 6 else 2}" for b in builds})
    for label in labels[-p.trend_periods:]:
        period = parse_period(label)
        build = _build_within(builds, period)
        table = disparity_table(load_counts(con, build, period.end), p)
        if table.empty:
            continue
        table.insert(0, "build_as_of", build)
        table.insert(0, "period", label)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=list(PUBLISHED_COLUMNS))
    table = pd.concat(frames, ignore_index=True).rename(columns={"group": "group_value"})
    return suppress(table, p.publish_min_cell)[list(PUBLISHED_COLUMNS)]
