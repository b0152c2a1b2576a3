"""The generated world: cadres and the typed facts every unit will report about them.

Facts are held *typed* (dates as datetime64, counts as Int64, booleans as Python bools, code
lists as tuples), one DataFrame per source with the contract's field names plus two internal
columns: ``_unit`` (who sends the row) and ``_year`` (which yearly file it lands in). How a value
is *written* (date form, boolean spelling, ID quirks) is decided later, by the renderer, so a
scenario author only ever thinks in clean values.

Every random draw comes from ``World.rng(name)``: an independent stream per name derived from
the seed, so adding a source or a scenario never shifts the numbers of the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts import Contract, load_contract, units_for_source
from pipelines.ingest import idcard

INTERNAL = ("_unit", "_year")

# The field whose year decides which yearly file a fact lands in.
FILE_YEAR_FIELD: Mapping[str, str] = {
    "annual_assessment": "year",
    "inspection_finding": "found_on",
    "audit_finding": "reported_on",
    "petition_verification": "received_on",
    "personal_report_check": "checked_on",
    "sanction": "decided_on",
}


def typed_frame(contract: Contract, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with every contract column present, in contract order, in its typed dtype.

    Optional columns the generator did not fill come out empty; a missing *required* column is
    a generator bug and raises.
    """
    missing = [f.name for f in contract.required_fields if f.name not in rows.columns]
    if missing:
        raise ValueError(f"{contract.source}: generated rows lack required fields {missing}")
    unknown = set(rows.columns) - set(contract.field_names) - set(INTERNAL)
    if unknown:
        raise ValueError(f"{contract.source}: generated fields not in the contract: {unknown}")
    out = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for f in contract.fields:
        col = rows[f.name].reset_index(drop=True) if f.name in rows.columns else None
        if f.type == "date":
            out[f.name] = (pd.to_datetime(col) if col is not None
                           else pd.Series(pd.NaT, index=out.index)).astype("datetime64[s]")
        elif f.type in ("int", "year"):
            out[f.name] = (col if col is not None else pd.Series(pd.NA, index=out.index)
                           ).astype("Int64")
        elif f.type == "decimal":
            out[f.name] = (col if col is not None else pd.Series(np.nan, index=out.index)
                           ).astype("float64")
        else:
            out[f.name] = (col.astype(object) if col is not None
                           else pd.Series(None, index=out.index, dtype=object))
    for name in INTERNAL:
        if name in rows.columns:
            out[name] = rows[name].to_numpy()
    return out


@dataclass
class World:
    """Everything the drops are rendered from; scenarios read and extend it."""

    seed: int
    end_year: int
    years: tuple[int, ...]
    cadres: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: dict[str, pd.DataFrame] = field(default_factory=dict)
    # Expected outcomes written beside the drops by scenarios (e.g. expected flags).
    planted: list[dict[str, Any]] = field(default_factory=list)
    used_ids: set[str] = field(default_factory=set)

    @property
    def start(self) -> date:
        return date(self.years[0], 1, 1)

    @property
    def end(self) -> date:
        """The last day any fact may carry: no data from after the drop date."""
        return date(self.end_year, 12, 31)

    def rng(self, name: str) -> np.random.Generator:
        """An independent, reproducible random stream for ``name``."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode("utf-8"))])

    # --- identities ---------------------------------------------------------------------
    def new_id(self, rng: np.random.Generator, born: date, male: bool, area: str) -> str:
        """A valid ID not used by anyone yet (cadre or phantom), registered as used."""
        for _ in range(1000):
            seq = int(rng.integers(0, 500)) * 2 + (1 if male else 0)  # 17th digit odd = male
            candidate = idcard.make(area, born, seq)
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate
        raise RuntimeError(f"no free ID sequence for {area} {born}")

    def cadre(self, id_number: str) -> pd.Series:
        return self.cadres.loc[self.cadres["id_number"] == id_number].iloc[0]

    # --- extension points for scenarios -------------------------------------------------
    def add_cadres(self, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        """Append roster rows (typed values, contract field names). IDs must be unused."""
        frame = (rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))).copy()
        # Every cadre belongs to the one roster snapshot (ORG, end year) unless told otherwise;
        # a row without these would silently drop out of the roster file.
        frame["_unit"] = frame["_unit"].fillna("ORG") if "_unit" in frame else "ORG"
        frame["_year"] = frame["_year"].fillna(self.end_year) if "_year" in frame else self.end_year
        clash = set(frame["id_number"]) & set(self.cadres.get("id_number", ()))
        if clash:
            raise ValueError(f"cadres already present: {sorted(clash)[:5]}")
        self.used_ids.update(frame["id_number"])
        typed = typed_frame(load_contract("roster"), frame)
        self.cadres = typed if self.cadres.empty else pd.concat([self.cadres, typed],
                                                                ignore_index=True)

    def add_facts(self, source: str, rows: pd.DataFrame | Iterable[Mapping[str, Any]],
                  unit: str | None = None) -> None:
        """Append typed fact rows for ``source``; ``unit`` defaults to the first allowed one.

        The yearly file a row lands in follows from its date/year (``FILE_YEAR_FIELD``).
        """
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        frame = frame.copy()
        if "_unit" not in frame.columns:
            frame["_unit"] = unit or units_for_source(source)[0]
        if "_year" not in frame.columns:
            frame["_year"] = file_years(source, frame)
        typed = typed_frame(load_contract(source), frame)
        old = self.facts.get(source)
        self.facts[source] = typed if old is None or old.empty else pd.concat(
            [old, typed], ignore_index=True)


def file_years(source: str, frame: pd.DataFrame) -> np.ndarray:
    """The yearly file of each row, from the source's year or date field."""
    col = frame[FILE_YEAR_FIELD[source]]
    if source == "annual_assessment":
        return col.astype("int64").to_numpy()
    return pd.to_datetime(col).dt.year.astype("int64").to_numpy()


def random_dates(rng: np.random.Generator, start: date, end: date, size: int) -> np.ndarray:
    """``size`` uniform dates in [start, end] as datetime64[D]."""
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    span = int((hi - lo).astype(int)) + 1
    return lo + rng.integers(0, span, size=size).astype("timedelta64[D]")
