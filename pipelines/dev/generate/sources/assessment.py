"""年度考核结果: one row per cadre per assessment year (ORG 考核办)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World

SOURCE = "annual_assessment"
GRADE_WEIGHTS = {"优秀": 0.16, "称职": 0.745, "基本称职": 0.06, "不称职": 0.01, "不定等次": 0.025}
# Dirichlet concentration of (优秀, 称职, 基本称职, 不称职) vote shares per grade.
VOTE_ALPHA = {
    "优秀": (14.0, 6.0, 0.6, 0.15),
    "称职": (5.0, 13.0, 1.0, 0.25),
    "基本称职": (2.0, 9.0, 5.0, 1.5),
    "不称职": (1.0, 5.0, 5.0, 5.5),
}
SCORE_MEAN = {"优秀": 93.0, "称职": 85.0, "基本称职": 72.0, "不称职": 56.0}
SCORE_FIELDS = ("score_virtue", "score_ability", "score_diligence", "score_performance",
                "score_integrity")
VOTE_FIELDS = ("votes_excellent", "votes_competent", "votes_basic", "votes_incompetent")


def _votes(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    """Vote counts (n x 4) that sum to a plausible electorate; NaN rows where ungraded."""
    n = grade.size
    out = np.full((n, 4), np.nan)
    electorate = rng.integers(12, 91, n)
    for g, alpha in VOTE_ALPHA.items():
        rows = np.flatnonzero(grade == g)
        if not rows.size:
            continue
        share = rng.dirichlet(alpha, rows.size)
        left = electorate[rows].astype(np.int64)
        rest = np.ones(rows.size)
        for k in range(3):  # sequential binomials: exact sum, vectorised
            p = np.clip(share[:, k] / np.maximum(rest, 1e-12), 0.0, 1.0)
            v = rng.binomial(left, p)
            out[rows, k] = v
            left = left - v
            rest = rest - share[:, k]
        out[rows, 3] = left
    return out


def _scores(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    """德能勤绩廉 scores (n x 5), consistent with the grade; NaN where ungraded or not scored."""
    n = grade.size
    mean = np.array([SCORE_MEAN.get(g, np.nan) for g in grade])
    person = rng.normal(0.0, 2.5, n)
    scores = mean[:, None] + person[:, None] + rng.normal(0.0, 2.5, (n, 5))
    scores = np.round(np.clip(scores, 0.0, 100.0), 1)
    scores[rng.random(n) < 0.1] = np.nan  # not every unit does 分项评价
    return scores


def generate(world: World) -> pd.DataFrame:
    ref.check_codes(SOURCE, "grade", list(VOTE_ALPHA) + list(SCORE_MEAN))
    cadres = world.cadres
    frames = []
    for year in world.years:
        rng = world.rng(f"{SOURCE}:{year}")
        n = len(cadres)
        grade = ref.choose(rng, SOURCE, "grade", GRADE_WEIGHTS, n)
        votes = _votes(rng, grade)
        scores = _scores(rng, grade)
        remark = np.full(n, None, dtype=object)
        graded = np.isin(grade, list(VOTE_ALPHA))
        undetermined = np.flatnonzero(~graded)
        remark[undetermined] = np.array(ref.REMARKS_UNDETERMINED, dtype=object)[
            rng.integers(0, len(ref.REMARKS_UNDETERMINED), undetermined.size)]
        frame = pd.DataFrame({
            "id_number": cadres["id_number"].to_numpy(),
            "name": cadres["name"].to_numpy(),
            "year": year,
            "grade": grade,
            "remark": remark,
            "_unit": "ORG",
            "_year": year,
        })
        for k, f in enumerate(VOTE_FIELDS):
            frame[f] = pd.array(votes[:, k], dtype="Float64").astype("Int64")
        for k, f in enumerate(SCORE_FIELDS):
            frame[f] = scores[:, k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
