"""Shared fixtures: a fresh data folder per test, small real files in every unit format, and
built worlds (``review_world``, ``world``, ``built``) that tests copy before they write.

Markers (declared in setup.cfg): ``slow`` (Airflow ``dag.test()`` runs, subprocesses, generated
data sets) and ``integration`` (loads and builds a warehouse). A test with neither is a unit
test: ``make test-fast`` runs only those. A test that uses a built world is marked
``integration`` here automatically, so a new test cannot slip a build into the fast loop.
"""

from __future__ import annotations

import atexit
import csv
import io
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

from pipelines.ingest import idcard
from pipelines.settings import DataHome
from tests.review_scenario import copy_world, load_review_world, private_copy  # noqa: F401 (re-exported)

# Tests that import Airflow in-process (DagBag parsing) must not write ~/airflow: give this test
# session its own AIRFLOW_HOME before anything imports airflow, removed when the session (each
# xdist worker is one) ends. Subprocess runs set their own.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="cadre-test-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

ROSTER_HEADER = ["身份证号", "姓名", "性别", "出生日期", "单位", "现任职务", "职务层次", "岗位类别",
                 "领域", "任现职时间", "是否试用期"]


def valid_id(n: int, born: date = date(1980, 1, 1), area: str = "110105") -> str:
    return idcard.make(area, born, n)


def roster_row(n: int, **overrides: object) -> list[object]:
    """A valid roster row for cadre n (birth date agrees with the ID)."""
    born = date(1970 + n % 20, 1 + n % 12, 1 + n % 28)
    row: dict[str, object] = {
        "身份证号": valid_id(n, born), "姓名": f"测试{n}", "性别": "男" if n % 2 else "女",
        "出生日期": born.isoformat(), "单位": "市发展和改革委员会", "现任职务": "副主任",
        "职务层次": "县处级副职", "岗位类别": "党政副职", "领域": "党政机关",
        "任现职时间": "2021-03-05", "是否试用期": "否",
    }
    row.update(overrides)
    return [row[h] for h in ROSTER_HEADER]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8",
              title_rows: list[list[object]] | None = None) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for title in title_rows or []:
        writer.writerow(title)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], title: str | None = None) -> Path:
    """An xlsx as units make them: an optional merged title row above the header."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_json(path: Path, objects: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(objects, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataHome:
    """A fresh, private data folder; CADRE_HOME points at it for code that reads the env."""
    root = tmp_path / "cadre_home"
    monkeypatch.setenv("CADRE_HOME", str(root))
    return DataHome.from_env().ensure()


# --- built worlds ---------------------------------------------------------------------------
# Loading and building takes seconds, so a world is built once and copied per test.
WORLD_FIXTURES = {"review_world", "world", "built"}


@pytest.fixture(scope="session")
def review_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The review scenario (tests/review_scenario.py) loaded and built once per test process:
    (data folder, name -> 身份证号). Read-only; copy it (``built``, ``private_copy``) to write."""
    root = tmp_path_factory.mktemp("review_world") / "home"
    ids = load_review_world(DataHome(root.resolve()).ensure(), root.parent / "drops")
    return root, ids


@pytest.fixture(scope="module")
def world(review_world: tuple[Path, dict[str, str]]) -> tuple[Path, dict[str, str]]:
    """The built world a module's tests start from: the review world unless the module
    defines its own ``world`` fixture."""
    return review_world


@pytest.fixture
def built(world: tuple[Path, dict[str, str]], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> tuple[DataHome, dict[str, str]]:
    """A private copy of this module's built ``world``, made the current data folder
    (CADRE_HOME): a test may record decisions or rebuild in it."""
    return private_copy(world[0], tmp_path, monkeypatch), world[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts from a built world ``integration``."""
    for item in items:
        if WORLD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
