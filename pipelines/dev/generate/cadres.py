"""Background cadres: the roster every other source refers to.

Vectorised with numpy because the benchmark size is 100,000 cadres; only the ID itself is built
one by one, through ``idcard.make`` (the single implementation of the check digit).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World
from pipelines.ingest import idcard

BIRTH_FIRST = date(1965, 1, 1)
BIRTH_LAST = date(1992, 12, 31)
MALE_SHARE = 0.72  # leading cadres skew male

POST_LEVEL_WEIGHTS = {
    "省部级正职": 0.0005, "省部级副职": 0.0015, "厅局级正职": 0.01, "厅局级副职": 0.03,
    "县处级正职": 0.16, "县处级副职": 0.37, "乡科级正职": 0.26, "乡科级副职": 0.168,
}
POST_CATEGORY_WEIGHTS = {"党政正职": 0.2, "党政副职": 0.47, "其他领导职务": 0.33}
DEPUTY_TITLE = {"董事长": "副总经理", "书记": "副书记", "部长": "副部长"}


def chinese_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Chinese names from Faker's zh_CN tables: weighted surname, given name of 1-2 chars."""
    surnames, p, given_m, given_f = ref.name_tables()
    n = male.size
    sur = surnames[rng.choice(surnames.size, size=n, p=p)]
    given = np.where(male, given_m[rng.integers(0, given_m.size, n)],
                     given_f[rng.integers(0, given_f.size, n)])
    # Faker's lists are short; pairing two single-character names gives realistic variety.
    single_m = np.array([g for g in given_m if len(g) == 1])
    single_f = np.array([g for g in given_f if len(g) == 1])
    pair = rng.random(n) < 0.45
    second = np.where(male, single_m[rng.integers(0, single_m.size, n)],
                      single_f[rng.integers(0, single_f.size, n)])
    first = np.array([g[0] for g in given])
    given = np.where(pair, np.char.add(first, second), given)
    return np.char.add(sur.astype(str), given.astype(str)).astype(object)


def _titles(rng: np.random.Generator, org_idx: np.ndarray, category: np.ndarray) -> np.ndarray:
    orgs = ref.orgs()
    ref.check_codes("roster", "post_category", ("党政正职", "党政副职", "其他领导职务"))
    pick = rng.integers(0, 1000, size=org_idx.size)
    out = np.empty(org_idx.size, dtype=object)
    for i, (o, cat, k) in enumerate(zip(org_idx, category, pick, strict=True)):
        org = orgs[o]
        if cat == "党政正职":
            options = (f"{org.secretary}、{org.head}", org.head, f"{org.secretary}、{org.head}")
        elif cat == "党政副职":
            options = (DEPUTY_TITLE.get(org.head, "副" + org.head),)
        else:
            options = ref.OTHER_TITLES.get(org.sector, ("党组成员",))
        out[i] = options[k % len(options)]
    return out


def generate_cadres(world: World, n: int) -> pd.DataFrame:
    """``n`` roster rows (typed) for the background population; IDs registered in ``world``."""
    rng = world.rng("cadres")
    ref.check_codes("roster", "gender", ("男", "女"))
    male = rng.random(n) < MALE_SHARE
    lo, hi = np.datetime64(BIRTH_FIRST, "D"), np.datetime64(BIRTH_LAST, "D")
    born = lo + rng.integers(0, int((hi - lo).astype(int)) + 1, n).astype("timedelta64[D]")
    home, away = ref.area_codes()
    area = np.where(rng.random(n) < 0.7, home[rng.integers(0, home.size, n)],
                    away[rng.integers(0, away.size, n)])
    seqs = rng.integers(0, 500, n) * 2 + male.astype(int)
    ids = np.empty(n, dtype=object)
    born_dates = born.astype(object)
    for i in range(n):
        candidate = idcard.make(area[i], born_dates[i], int(seqs[i]))
        if candidate in world.used_ids:
            candidate = world.new_id(rng, born_dates[i], bool(male[i]), area[i])
        world.used_ids.add(candidate)
        ids[i] = candidate

    orgs = ref.orgs()
    w = np.array([o.weight for o in orgs])
    org_idx = rng.choice(len(orgs), size=n, p=w / w.sum())
    category = ref.choose(rng, "roster", "post_category", POST_CATEGORY_WEIGHTS, n)
    level = ref.choose(rng, "roster", "post_level", POST_LEVEL_WEIGHTS, n)

    end = np.datetime64(world.end, "D")
    tenure = np.round(rng.exponential(3.5 * 365, n)).astype("timedelta64[D]")
    earliest = born + np.timedelta64(27 * 365, "D")
    appointed = np.maximum(np.maximum(end - tenure, earliest), np.datetime64("2003-01-01"))
    appointed = np.minimum(appointed, end)
    recent = (end - appointed) < np.timedelta64(365, "D")
    probation = np.where(recent & (rng.random(n) < 0.7), True,
                         np.where(rng.random(n) < 0.6, False, None)).astype(object)
    probation[recent & (probation == None)] = False  # noqa: E711 - object array comparison

    org_code = np.array([o.code for o in orgs], dtype=object)[org_idx]
    org_code[rng.random(n) < 0.1] = None  # optional column, often left blank
    return pd.DataFrame({
        "id_number": ids,
        "name": chinese_names(rng, male),
        "gender": np.where(male, "男", "女").astype(object),
        "birth_date": born.astype("datetime64[s]"),
        "org_name": np.array([o.name for o in orgs], dtype=object)[org_idx],
        "org_code": org_code,
        "post_title": _titles(rng, org_idx, category),
        "post_level": level,
        "post_category": category,
        "sector": np.array([o.sector for o in orgs], dtype=object)[org_idx],
        "appointed_on": appointed.astype("datetime64[s]"),
        "on_probation": probation,
        "_unit": "ORG",
        "_year": world.end_year,
    })
