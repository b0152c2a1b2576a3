"""信访举报查核: petition cases against cadres, from 信访局 (PET) and 纪委监委 (DIS)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World, random_dates

SOURCE = "petition_verification"
# unit -> (cases per cadre per year, case-number prefix)
SENDERS = {"PET": (0.03, "XF"), "DIS": (0.01, "JWXF")}
CATEGORY_WEIGHTS = {"廉洁问题": 0.3, "作风问题": 0.25, "不担当不作为": 0.2, "选人用人": 0.1,
                    "其他": 0.15}
CONCLUSION_WEIGHTS = {"属实": 0.08, "基本属实": 0.1, "部分属实": 0.15, "不属实": 0.5,
                      "无法查实": 0.17}
OPEN = "(open)"  # pseudo-conclusion for cases still open at the drop date
DISPOSAL_GIVEN = {
    "不属实": {"予以了结": 0.6, "谈话函询": 0.25, "初步核实": 0.15},
    "无法查实": {"予以了结": 0.4, "暂存待查": 0.3, "初步核实": 0.3},
    "部分属实": {"谈话函询": 0.5, "初步核实": 0.4, "移送党组织处理": 0.1},
    "基本属实": {"初步核实": 0.4, "立案审查": 0.3, "移送党组织处理": 0.3},
    "属实": {"立案审查": 0.5, "移送党组织处理": 0.3, "初步核实": 0.2},
    OPEN: {"初步核实": 0.6, "暂存待查": 0.2, "谈话函询": 0.2},
}
OUTCOME_GIVEN = {
    "不属实": {"无": 0.9, "提醒": 0.1},
    "无法查实": {"无": 0.85, "提醒": 0.15},
    "部分属实": {"提醒": 0.4, "批评教育": 0.5, "诫勉": 0.1},
    "基本属实": {"批评教育": 0.4, "诫勉": 0.35, "组织处理": 0.15, "纪律处分": 0.1},
    "属实": {"诫勉": 0.3, "组织处理": 0.25, "纪律处分": 0.45},
}


def _cases(world: World, unit: str, year: int) -> pd.DataFrame:
    rate, prefix = SENDERS[unit]
    rng = world.rng(f"{SOURCE}:{unit}:{year}")
    cadres = world.cadres
    n = max(1, round(rate * len(cadres)))
    who = rng.integers(0, len(cadres), n)  # a cadre may be reported more than once
    received = np.sort(random_dates(rng, date(year, 1, 2), date(year, 12, 28), n))
    closed = received + rng.integers(20, 151, n).astype("timedelta64[D]")
    still_open = (closed > np.datetime64(world.end, "D")) | (rng.random(n) < 0.02)
    conclusion = ref.choose(rng, SOURCE, "conclusion", CONCLUSION_WEIGHTS, n).astype(object)
    conclusion[still_open] = None
    given = np.where(still_open, OPEN, conclusion)
    ref.check_codes(SOURCE, "conclusion", [k for k in DISPOSAL_GIVEN if k != OPEN])
    closed_on = pd.Series(closed.astype("datetime64[s]"))
    closed_on[still_open] = pd.NaT
    return pd.DataFrame({
        "case_id": [f"{prefix}{year}{i + 1:05d}" for i in range(n)],
        "id_number": cadres["id_number"].to_numpy()[who],
        "name": cadres["name"].to_numpy()[who],
        "category": ref.choose(rng, SOURCE, "category", CATEGORY_WEIGHTS, n),
        "received_on": received.astype("datetime64[s]"),
        "closed_on": closed_on,
        "conclusion": conclusion,
        "disposal": ref.choose_given(rng, SOURCE, "disposal", given, DISPOSAL_GIVEN),
        "outcome": ref.choose_given(rng, SOURCE, "outcome", given, OUTCOME_GIVEN),
        "_unit": unit,
        "_year": year,
    })


def generate(world: World) -> pd.DataFrame:
    return pd.concat([_cases(world, unit, year) for unit in SENDERS for year in world.years],
                     ignore_index=True)
