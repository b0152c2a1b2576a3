"""审计发现问题: economic-responsibility and other audits, one to a few items per audit."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.sources.inspection import tolerance
from pipelines.dev.generate.world import World, random_dates

SOURCE = "audit_finding"
AUDIT_RATE = 0.015  # audited cadres per year
AUDIT_TYPE_WEIGHTS = {"经济责任审计": 0.6, "专项审计": 0.25, "离任审计": 0.15}
AUDIT_TYPE_ABBREV = {"经济责任审计": "经责", "专项审计": "专审", "离任审计": "离任"}
CATEGORY_WEIGHTS = {"违规决策": 0.12, "资金违规使用": 0.2, "损失浪费": 0.13, "管理不规范": 0.45,
                    "其他": 0.1}
RESPONSIBILITY_WEIGHTS = {"直接责任": 0.45, "领导责任": 0.55}
RATING_WEIGHTS = {"好": 0.25, "较好": 0.45, "一般": 0.25, "较差": 0.05}


def generate(world: World) -> pd.DataFrame:
    ref.check_codes(SOURCE, "audit_type", AUDIT_TYPE_ABBREV)
    cadres = world.cadres
    frames = []
    for year in world.years:
        rng = world.rng(f"{SOURCE}:{year}")
        n_audits = min(len(cadres), max(1, round(AUDIT_RATE * len(cadres))))
        who = rng.choice(len(cadres), size=n_audits, replace=False)
        items = np.minimum(rng.geometric(0.5, n_audits), 5)
        audit_type = ref.choose(rng, SOURCE, "audit_type", AUDIT_TYPE_WEIGHTS, n_audits)
        reported = np.sort(random_dates(rng, date(year, 2, 1), date(year, 12, 25), n_audits))
        audit_ids = np.array([f"{ref.CITY[0]}审{AUDIT_TYPE_ABBREV.get(t, '审')}〔{year}〕{i + 1}号"
                              for i, t in enumerate(audit_type)], dtype=object)
        rating = ref.choose(rng, SOURCE, "rating", RATING_WEIGHTS, n_audits).astype(object)
        rating[rng.random(n_audits) < 0.1] = None
        per = np.repeat(np.arange(n_audits), items)
        n = per.size
        item_no = np.concatenate([np.arange(1, k + 1) for k in items])
        category = ref.choose(rng, SOURCE, "category", CATEGORY_WEIGHTS, n)
        amount = np.round(rng.lognormal(np.log(40.0), 1.6, n), 2)
        amount[rng.random(n) < 0.15] = np.nan
        if np.nanmax(amount, initial=0.0) < 1000:  # every file shows a "1,250.50" somewhere
            amount[int(rng.integers(0, n))] = np.round(rng.uniform(1000.0, 5000.0), 2)
        referred = np.where(rng.random(n) < 0.05, True,
                            np.where(rng.random(n) < 0.7, False, None)).astype(object)
        tolerated, basis = tolerance(rng, n, 0.03)
        frames.append(pd.DataFrame({
            "audit_id": audit_ids[per], "item_no": item_no,
            "id_number": cadres["id_number"].to_numpy()[who][per],
            "name": cadres["name"].to_numpy()[who][per], "audit_type": audit_type[per],
            "category": category, "amount_wan": amount,
            "responsibility": ref.choose(rng, SOURCE, "responsibility", RESPONSIBILITY_WEIGHTS, n),
            "rating": rating[per], "reported_on": reported[per].astype("datetime64[s]"),
            "referred": referred, "tolerated": tolerated, "tolerance_basis": basis,
            "_unit": "AUD", "_year": year,
        }))
    return pd.concat(frames, ignore_index=True)
