"""What analysts may see of a cadre: a pseudonym and coarse attributes, never fewer than k alike.

A keyed pseudonym alone does not make a table pseudonymous: 单位 + 职务层次 + 性别 + 出生日期
re-identify most cadres at a glance. So the analysts' snapshot carries, per cadre, only
``cadre_key``, 性别, an age band, 单位, 领域 and 职务层次, in one table (``core.cadre``), and every
combination of those that fewer than ``K_MIN`` cadres share is coarsened step by step until
at least ``K_MIN`` share it:

  0. five-year age band, sex, post level, unit, sector   (e.g. 45-49, 男, 县处级副职, 市财政局)
  1. ten-year age band                                      (40-49)
  2. no age band
  3. no sex
  4. post level as its tier only                            (县处级)
  5. no post level
  6. no unit (the sector stays)
  7. nothing: and if even that group is smaller than ``K_MIN`` its cadres are left out of
     the table (suppressed); their evidence rows remain under their ``cadre_key``.

Each cadre gets the first step at which its group, among the cadres not yet placed, holds
``K_MIN`` or more; so every published combination is shared by at least ``K_MIN`` cadres
(``tests/test_publish.py`` checks it). The other tables of the snapshot carry no attribute
of the person at all (they join ``core.cadre`` on ``cadre_key``). A NULL attribute means
"coarsened away", said in the column comments.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

K_MIN = 5
QUASI_COLUMNS = ("age_band", "gender", "post_level", "org_name", "sector")


def age_band(birth: date | None, on: date, width: int = 5) -> str | None:
    """'45-49' for a cadre aged 45 to 49 on ``on``; None without a birth date."""
    if birth is None or pd.isna(birth):
        return None
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    low = age // width * width
    return f"{low}-{low + width - 1}"


def post_tier(level: str | None) -> str | None:
    """县处级正职 -> 县处级: the tier without 正职/副职."""
    if level is None or pd.isna(level):
        return None
    return level.removesuffix("正职").removesuffix("副职")


def _step(frame: pd.DataFrame, step: int, on: date) -> pd.DataFrame:
    """The quasi-identifier columns of ``frame`` generalised to ``step`` (0-7)."""
    out = pd.DataFrame(index=frame.index)
    births = frame["birth_date"]
    if step == 0:
        out["age_band"] = [age_band(b, on) for b in births]
    elif step == 1:
        out["age_band"] = [age_band(b, on, 10) for b in births]
    else:
        out["age_band"] = None
    out["gender"] = frame["gender"] if step <= 2 else None
    if step <= 3:
        out["post_level"] = frame["post_level"]
    elif step == 4:
        out["post_level"] = [post_tier(v) for v in frame["post_level"]]
    else:
        out["post_level"] = None
    out["org_name"] = frame["org_name"] if step <= 5 else None
    out["sector"] = frame["sector"] if step <= 6 else None
    return out.astype(object).where(out.notna(), None)


LAST_STEP = 7


def coarsen(cadres: pd.DataFrame, on: date, k: int = K_MIN) -> pd.DataFrame:
    """``cadre_key`` plus the quasi-identifiers, coarsened so each combination has >= k
    cadres; suppressed cadres are absent. ``cadres`` needs cadre_key, birth_date, gender,
    post_level, org_name and sector; ``on`` is the date ages are counted on. Also returns the
    step each cadre was published at (``coarsened_step``)."""
    remaining = cadres.reset_index(drop=True)
    placed = []
    for step in range(LAST_STEP + 1):
        if remaining.empty:
            break
        attrs = _step(remaining, step, on)
        sizes = attrs.fillna("\0").groupby(list(QUASI_COLUMNS), dropna=False)[
            "age_band"].transform("size")
        ok = sizes >= k
        placed.append(pd.concat([remaining.loc[ok, ["cadre_key"]], attrs[ok]], axis=1)
                      .assign(coarsened_step=step))
        remaining = remaining.loc[~ok].reset_index(drop=True)
    columns = ["cadre_key", *QUASI_COLUMNS, "coarsened_step"]
    if not placed:
        return pd.DataFrame(columns=columns)
    return pd.concat(placed, ignore_index=True)[columns]
