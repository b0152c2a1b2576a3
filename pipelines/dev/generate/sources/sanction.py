"""处分与组织处理 (DIS): follow-ups of verified petitions and report checks, plus a rare few.

Derived from the already generated petitions and personal report checks so that a sanction
usually has the evidence that led to it, as in real files.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World, random_dates

SOURCE = "sanction"
EXTRA_RATE = 0.001  # sanctions per cadre per year without a matching petition in the drops
DISCIPLINE_WEIGHTS = {"党纪警告": 0.3, "党纪严重警告": 0.2, "撤销党内职务": 0.1, "留党察看": 0.05,
                      "政务警告": 0.1, "政务记过": 0.1, "政务记大过": 0.07, "政务降级": 0.05,
                      "政务撤职": 0.03}
ORGANISATIONAL_WEIGHTS = {"调整职务": 0.4, "停职检查": 0.1, "免职": 0.2, "降职": 0.15,
                          "责令辞职": 0.15}
ANY_WEIGHTS = {**DISCIPLINE_WEIGHTS, **ORGANISATIONAL_WEIGHTS, "诫勉": 0.5}
# petition outcome -> measure weights; personal-report outcome -> measure
FROM_PETITION = {"诫勉": {"诫勉": 1.0}, "组织处理": ORGANISATIONAL_WEIGHTS,
                 "纪律处分": DISCIPLINE_WEIGHTS}
FROM_REPORT = {"诫勉": "诫勉", "调离": "调整职务", "免职": "免职", "降职": "降职"}
REASON_FROM_PETITION = {"廉洁问题": "廉洁", "作风问题": "作风", "不担当不作为": "不担当不作为",
                        "选人用人": "其他", "其他": "其他"}
REPORT_REASON = "个人事项"
REASON_WEIGHTS = {"廉洁": 0.35, "作风": 0.25, "不担当不作为": 0.2, "违规决策": 0.1, "其他": 0.1}


def _validate() -> None:
    ref.check_codes("petition_verification", "outcome", FROM_PETITION)
    ref.check_codes("petition_verification", "category", REASON_FROM_PETITION)
    ref.check_codes("personal_report_check", "outcome", FROM_REPORT)
    ref.check_codes(SOURCE, "measure", FROM_REPORT.values())
    ref.check_codes(SOURCE, "reason_category", [*REASON_FROM_PETITION.values(), REPORT_REASON])


def generate(world: World) -> pd.DataFrame:
    _validate()
    rng = world.rng(SOURCE)
    end = np.datetime64(world.end, "D")
    petitions = world.facts["petition_verification"]
    petitions = petitions[petitions["outcome"].isin(list(FROM_PETITION))
                          & petitions["closed_on"].notna()]
    measure = ref.choose_given(rng, SOURCE, "measure", petitions["outcome"].to_numpy(),
                               FROM_PETITION)
    derived = pd.DataFrame({
        "id_number": petitions["id_number"].to_numpy(), "name": petitions["name"].to_numpy(),
        "measure": measure,
        "reason_category": petitions["category"].map(REASON_FROM_PETITION).to_numpy(),
        "decided_on": petitions["closed_on"].to_numpy().astype("datetime64[D]")
        + rng.integers(5, 41, len(petitions)).astype("timedelta64[D]"),
    })
    checks = world.facts["personal_report_check"]
    checks = checks[checks["outcome"].isin(list(FROM_REPORT))]
    from_checks = pd.DataFrame({
        "id_number": checks["id_number"].to_numpy(), "name": checks["name"].to_numpy(),
        "measure": checks["outcome"].map(FROM_REPORT).to_numpy(),
        "reason_category": REPORT_REASON,
        "decided_on": checks["checked_on"].to_numpy().astype("datetime64[D]")
        + rng.integers(10, 61, len(checks)).astype("timedelta64[D]"),
    })
    extras = []
    cadres = world.cadres
    for year in world.years:
        n = max(1, round(EXTRA_RATE * len(cadres)))
        who = rng.integers(0, len(cadres), n)
        extras.append(pd.DataFrame({
            "id_number": cadres["id_number"].to_numpy()[who],
            "name": cadres["name"].to_numpy()[who],
            "measure": ref.choose(rng, SOURCE, "measure", ANY_WEIGHTS, n),
            "reason_category": ref.choose(rng, SOURCE, "reason_category", REASON_WEIGHTS, n),
            "decided_on": random_dates(rng, date(year, 1, 5), date(year, 12, 20), n),
        }))
    rows = pd.concat([derived, from_checks, *extras], ignore_index=True)
    rows = rows[rows["decided_on"].to_numpy().astype("datetime64[D]") <= end]
    rows = rows.sort_values(["decided_on", "id_number"], kind="stable", ignore_index=True)
    decided = rows["decided_on"].to_numpy().astype("datetime64[D]")
    year = decided.astype("datetime64[Y]").astype(int) + 1970
    discipline = rows["measure"].isin(list(DISCIPLINE_WEIGHTS)).to_numpy()
    numbers = []
    counters: dict[tuple[int, bool], int] = {}
    for y, d in zip(year, discipline, strict=True):
        counters[(y, d)] = counters.get((y, d), 0) + 1
        office = "纪发" if d else "组干"
        numbers.append(f"{ref.CITY[0]}{office}〔{y}〕{counters[(y, d)]}号")
    effect = pd.Series((decided + np.timedelta64(730, "D")).astype("datetime64[s]"))
    effect[rng.random(len(rows)) >= 0.15] = pd.NaT  # mostly left to be derived (rules.md §5)
    # 留党察看: the term varies, so 影响期截止 is required (sources.md): a 2-year term + 2 years,
    # the decision day counted as day 1
    on_probation = (rows["measure"] == "留党察看").to_numpy()
    effect[on_probation] = pd.Series(
        pd.to_datetime(decided[on_probation]) + pd.DateOffset(years=4) - pd.Timedelta(days=1),
        index=effect.index[on_probation]).astype("datetime64[s]")
    rows["decision_no"] = numbers
    rows["decided_on"] = decided.astype("datetime64[s]")
    rows["effect_until"] = effect.to_numpy()
    rows["_unit"] = "DIS"
    rows["_year"] = year
    return rows
