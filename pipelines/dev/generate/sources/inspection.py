"""巡视巡察发现问题: findings naming a responsible cadre (a few % a year) and unit-level ones."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World, random_dates

SOURCE = "inspection_finding"
PERSON_RATE = 0.03
UNIT_RATE = 0.004
ROUND_NUMERALS = "一二三四"
CATEGORY_WEIGHTS = {"政治建设": 0.1, "不担当不作为": 0.16, "形式主义官僚主义": 0.16,
                    "违反中央八项规定精神": 0.12, "选人用人": 0.1, "廉洁风险": 0.14,
                    "民主集中制": 0.1, "其他": 0.12}
SEVERITY_WEIGHTS = {"一般": 0.6, "较重": 0.3, "严重": 0.1}
RESPONSIBILITY_WEIGHTS = {"直接责任": 0.4, "领导责任": 0.6}
# Rectification state by whether the deadline has passed at the drop date.
RECTIFICATION_DUE = {"已整改": 0.86, "整改中": 0.09, "未整改": 0.05}
RECTIFICATION_PENDING = {"整改中": 0.7, "未整改": 0.3}


def descriptions(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    ref.phrases(ref.INSPECTION_PHRASES, SOURCE, "category")
    k = rng.integers(0, 1000, category.size)
    topic = rng.integers(0, len(ref.TOPICS), category.size)
    default = ref.INSPECTION_PHRASES["其他"]
    return np.array([ref.INSPECTION_PHRASES.get(c, default)[i % len(ref.INSPECTION_PHRASES.get(
        c, default))].format(topic=ref.TOPICS[t]) for c, i, t in zip(category, k, topic,
                                                                      strict=True)], dtype=object)


def tolerance(rng: np.random.Generator, n: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(tolerated, tolerance_basis): a few exempted with a basis; others 否 or blank."""
    tolerated = np.where(rng.random(n) < 0.6, False, None).astype(object)
    yes = rng.random(n) < rate
    tolerated[yes] = True
    basis = np.full(n, None, dtype=object)
    basis[yes] = np.array(ref.TOLERANCE_BASES, dtype=object)[
        rng.integers(0, len(ref.TOLERANCE_BASES), int(yes.sum()))]
    return tolerated, basis


def generate(world: World) -> pd.DataFrame:
    cadres = world.cadres
    orgs = np.array([o.name for o in ref.orgs()], dtype=object)
    frames = []
    for year in world.years:
        rng = world.rng(f"{SOURCE}:{year}")
        n_person = max(1, round(PERSON_RATE * len(cadres)))
        n_unit = max(1, round(UNIT_RATE * len(cadres)))
        who = rng.choice(len(cadres), size=min(n_person, len(cadres)), replace=False)
        n = who.size + n_unit
        person = np.arange(n) < who.size
        found = np.sort(random_dates(rng, date(year, 1, 10), date(year, 12, 20), n))
        rng.shuffle(person)  # persons and units interleave over the year
        ids = np.full(n, None, dtype=object)
        names = np.full(n, None, dtype=object)
        org = orgs[rng.integers(0, orgs.size, n)]
        ids[person] = cadres["id_number"].to_numpy()[who]
        names[person] = cadres["name"].to_numpy()[who]
        org[person] = cadres["org_name"].to_numpy()[who]
        category = ref.choose(rng, SOURCE, "category", CATEGORY_WEIGHTS, n)
        responsibility = ref.choose(rng, SOURCE, "responsibility", RESPONSIBILITY_WEIGHTS, n)
        responsibility[~person] = None
        quarter = (found.astype("datetime64[M]").astype(int) % 12) // 3
        rounds = np.array([f"{year}年第{ROUND_NUMERALS[q]}轮巡察" for q in quarter], dtype=object)
        finding_id = np.array([f"XC{year}-{q + 1}-{i + 1:05d}" for i, q in enumerate(quarter)],
                              dtype=object)
        deadline = found + np.where(rng.random(n) < 0.8, 61, 92).astype("timedelta64[D]")
        due = deadline <= np.datetime64(world.end, "D")
        rectification = np.where(
            due, ref.choose(rng, SOURCE, "rectification", RECTIFICATION_DUE, n),
            ref.choose(rng, SOURCE, "rectification", RECTIFICATION_PENDING, n))
        rectify_by = pd.Series(deadline.astype("datetime64[s]"))
        rectify_by[rng.random(n) < 0.08] = pd.NaT
        tolerated, basis = tolerance(rng, n, 0.04)
        tolerated[~person] = None
        basis[~person] = None
        frames.append(pd.DataFrame({
            "finding_id": finding_id, "round": rounds, "org_name": org, "id_number": ids,
            "name": names, "category": category, "description": descriptions(rng, category),
            "severity": ref.choose(rng, SOURCE, "severity", SEVERITY_WEIGHTS, n),
            "responsibility": responsibility, "found_on": found.astype("datetime64[s]"),
            "rectify_by": rectify_by, "rectification": rectification, "tolerated": tolerated,
            "tolerance_basis": basis, "_unit": "INS", "_year": year,
        }))
    return pd.concat(frames, ignore_index=True)
