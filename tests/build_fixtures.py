"""Small, readable cadre scenarios loaded the way units send them: CSV files through submit_file.

Why through ``submit_file`` and not INSERTs: the build must work on what ingest really writes
(normalised IDs, typed columns, lineage), so the tests exercise the same path as production.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from pipelines.contracts import load_contract
from pipelines.ingest import idcard
from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome

UNIT = {"roster": "ORG", "annual_assessment": "ORG", "personal_report_check": "ORG",
        "inspection_finding": "INS", "audit_finding": "AUD",
        "petition_verification": "PET", "sanction": "DIS"}
_serial = itertools.count(1)


def new_id(born: date | None = None) -> str:
    """A valid, unique 身份证号."""
    n = next(_serial)
    born = born or date(1970, 1, 1) + timedelta(days=n * 37 % 9000)
    return idcard.make("110101", born, n % 1000)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(value)
    return str(value)


class Scenario:
    """Rows per source; ``cadre()`` adds a roster row and returns the new cadre's ID."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._names: dict[str, str] = {}  # every cadre() so far: ID -> roster name

    def cadre(self, name: str = "张三", *, post_level: str = "县处级副职",
              post_category: str = "党政副职", sector: str = "党政机关",
              org_name: str = "某县发展和改革局", post_title: str = "副局长",
              appointed_on: str = "2020-01-01", on_probation: bool = False,
              id_number: str | None = None) -> str:
        id_number = id_number or new_id()
        self._names[id_number] = name
        born = idcard.birth_date(id_number)
        self.rows["roster"].append({
            "id_number": id_number, "name": name, "gender": "男", "birth_date": born,
            "org_name": org_name, "post_title": post_title, "post_level": post_level,
            "post_category": post_category, "sector": sector, "appointed_on": appointed_on,
            "on_probation": on_probation})
        return id_number

    def name_facts_by_roster(self) -> None:
        """A fact row whose ``name`` the test left as None gets its cadre's roster name: a name
        that contradicts the roster is 身份存疑 and counts toward nothing, so tests that are
        not about identity must write the right one."""
        names = {**self._names, **{r["id_number"]: r["name"] for r in self.rows["roster"]}}
        for source, rows in self.rows.items():
            if source == "roster":
                continue
            for row in rows:
                if row.get("name", "") is None and row.get("id_number"):
                    row["name"] = names.get(row["id_number"], "某人")  # unknown ID: any name

    def add(self, source: str, **row: object) -> None:
        self.rows[source].append(row)

    def next_key(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    def write(self, folder: Path, source: str, rows: list[dict], tag: str = "") -> Path:
        self.name_facts_by_roster()
        fields = load_contract(source).field_names
        path = folder / f"{source}{tag}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(fields)
            for row in rows:
                unknown = set(row) - set(fields)
                assert not unknown, f"{source}: unknown fields {unknown}"
                writer.writerow([_text(row.get(f)) for f in fields])
        return path

    def load(self, home: DataHome, folder: Path) -> None:
        """Submit every source's CSV (roster first); every row must be accepted."""
        home.ensure()
        folder.mkdir(parents=True, exist_ok=True)
        self.name_facts_by_roster()
        for source in ["roster", *sorted(s for s in self.rows if s != "roster")]:
            if not self.rows.get(source):
                continue
            receipt = submit_file(self.write(folder, source, self.rows[source]), UNIT[source],
                                  source, home)
            assert receipt.status == "accepted", (source, receipt)
