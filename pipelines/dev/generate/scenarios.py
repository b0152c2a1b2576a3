"""Planted scenarios: the place to add cadres whose facts must trip (or just miss) a rule.

A scenario is a function ``(world) -> None`` run after the background population and its
facts are generated and before anything is written. It typically

1. creates its own cadres with ``new_cadre`` (so no random background fact touches them:
   background facts are only drawn for background cadres),
2. gives them exactly the facts the case needs with ``world.add_facts(source, rows)`` (typed
   values: ``datetime.date``, ``int``, ``bool``, tuples for code lists; field names from the
   contract; the yearly file is chosen from the row's date or year), and
3. records what the pipeline should conclude with ``world.planted.append({...})``, e.g.
   ``{"id_number": ..., "rule": "A2", "expect": "candidate", "period": "2025"}``. The list is
   written verbatim to ``manifest.json`` under ``planted``.

Draw randomness only from ``world.rng("scenario:<name>")`` so the run stays reproducible and
other streams are not shifted. Planted cadres still get every annual assessment they need from
the scenario itself: ``assessment_row`` gives a plain 称职 row to start from.

``DEFAULT_SCENARIOS`` is what ``generate_drops`` runs unless told otherwise; it is empty until
the rule scenarios are written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from pipelines.dev.generate import reference as ref
from pipelines.dev.generate.world import World

Scenario = Callable[[World], None]

DEFAULT_SCENARIOS: tuple[Scenario, ...] = ()


def apply_scenarios(world: World, scenarios: tuple[Scenario, ...] | list[Scenario]) -> None:
    for scenario in scenarios:
        scenario(world)


def new_cadre(world: World, rng: np.random.Generator, *, name: str, male: bool, born: date,
              **fields: Any) -> dict[str, Any]:
    """Add one roster row with a fresh valid ID; ``fields`` override the plain defaults."""
    home, _ = ref.area_codes()
    area = str(home[int(rng.integers(0, home.size))])
    org = ref.orgs()[0]
    row: dict[str, Any] = {
        "id_number": world.new_id(rng, born, male, area),
        "name": name,
        "gender": "男" if male else "女",
        "birth_date": born,
        "org_name": org.name,
        "org_code": org.code,
        "post_title": "副" + org.head,
        "post_level": "县处级副职",
        "post_category": "党政副职",
        "sector": org.sector,
        "appointed_on": date(world.end_year - 3, 6, 1),
        "on_probation": False,
        "_unit": "ORG",
        "_year": world.end_year,
    }
    row.update(fields)
    world.add_cadres([row])
    return row


def assessment_row(cadre: dict[str, Any], year: int, **fields: Any) -> dict[str, Any]:
    """A plain 称职 assessment for ``cadre`` in ``year``; ``fields`` override."""
    row: dict[str, Any] = {
        "id_number": cadre["id_number"], "name": cadre["name"], "year": year, "grade": "称职",
        "votes_excellent": 10, "votes_competent": 25, "votes_basic": 2, "votes_incompetent": 0,
        "score_virtue": 86.0, "score_ability": 85.0, "score_diligence": 86.0,
        "score_performance": 84.0, "score_integrity": 88.0,
    }
    row.update(fields)
    return row
