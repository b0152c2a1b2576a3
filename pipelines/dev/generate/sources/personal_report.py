"""个人有关事项报告查核: yearly 随机抽查 of ~10%, plus 重点查核 and 凡提必查 batches (ORG)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World, random_dates

SOURCE = "personal_report_check"
# check mode -> (share of cadres per year, batches per year, result weights)
MODES = {
    "随机抽查": (0.10, 2, {"一致": 0.86, "漏报": 0.12, "瞒报": 0.02}),
    "凡提必查": (0.03, 1, {"一致": 0.9, "漏报": 0.09, "瞒报": 0.01}),
    "重点查核": (0.02, 1, {"一致": 0.7, "漏报": 0.22, "瞒报": 0.08}),
}
ITEM_WEIGHTS = {"房产": 0.35, "投资": 0.25, "婚姻": 0.05, "出国(境)证件": 0.1, "子女从业": 0.1,
                "配偶子女移居": 0.05, "其他": 0.1}
OUTCOME_GIVEN = {
    "一致": {"无": 1.0},
    "漏报": {"批评教育": 0.5, "责令检查": 0.25, "诫勉": 0.2, "取消考察对象": 0.05},
    "瞒报": {"诫勉": 0.3, "取消考察对象": 0.25, "调离": 0.15, "免职": 0.15, "降职": 0.15},
}
CONSISTENT = "一致"


def _items(rng: np.random.Generator, n: int) -> list[tuple[str, ...]]:
    codes, p = ref.weights_for(SOURCE, "items", ITEM_WEIGHTS)
    first = rng.choice(len(codes), size=n, p=p)
    second = rng.choice(len(codes), size=n, p=p)
    two = (rng.random(n) < 0.3) & (first != second)
    return [tuple(codes[[a, b]]) if t else (codes[a],)
            for a, b, t in zip(first, second, two, strict=True)]


def generate(world: World) -> pd.DataFrame:
    ref.check_codes(SOURCE, "result", OUTCOME_GIVEN)
    ref.check_codes(SOURCE, "check_mode", MODES)
    cadres = world.cadres
    frames = []
    for year in world.years:
        rng = world.rng(f"{SOURCE}:{year}")
        total = sum(max(1, round(share * len(cadres))) for share, _, _ in MODES.values())
        pool = rng.permutation(len(cadres))[:min(total, len(cadres))]  # one check per year each
        start = 0
        for mode, (share, batches, result_weights) in MODES.items():
            n = min(max(1, round(share * len(cadres))), pool.size - start)
            if n <= 0:
                continue
            who = pool[start:start + n]
            start += n
            result = ref.choose(rng, SOURCE, "result", result_weights, n)
            bad = result != CONSISTENT
            items = np.full(n, None, dtype=object)
            for row, listed in zip(np.flatnonzero(bad), _items(rng, int(bad.sum())),
                                   strict=True):
                items[row] = listed
            count = pd.array([len(i) + int(rng.geometric(0.7)) - 1 if i else pd.NA
                              for i in items], dtype="Int64")
            outcome = ref.choose_given(rng, SOURCE, "outcome", result, OUTCOME_GIVEN)
            outcome[~bad & (rng.random(n) < 0.4)] = None
            batch = rng.integers(0, batches, n)
            frames.append(pd.DataFrame({
                "batch_id": [f"{year}年{mode}第{b + 1}批" for b in batch],
                "id_number": cadres["id_number"].to_numpy()[who],
                "name": cadres["name"].to_numpy()[who],
                "report_year": year,
                "check_mode": mode,
                "result": result,
                "items": items,
                "item_count": count,
                "outcome": outcome,
                "checked_on": random_dates(rng, date(year, 3, 1), date(year, 11, 30),
                                           n).astype("datetime64[s]"),
                "_unit": "ORG",
                "_year": year,
            }))
    return pd.concat(frames, ignore_index=True)
