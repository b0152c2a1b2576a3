"""The import contracts (.importlinter) hold, and they catch what they promise to catch.

Why plant violations in a copy: a contract that never fails is no contract. Each case writes
one offending module into a copy of ``pipelines`` and checks that ``lint-imports`` fails and
names the import, the way a new module breaking the layers fails ``make test``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # spawns lint-imports (a few seconds each)

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(root), "PATH": ""})


def test_the_project_keeps_its_contracts() -> None:
    result = _lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "code", "message"), [
    ("ingest/leak.py", "from pipelines.review import decisions\n",
     "pipelines.ingest is not allowed to import pipelines.review"),
    ("review/leak.py", "def f():\n    from pipelines.dev import demo_review\n",
     "pipelines.review is not allowed to import pipelines.dev"),
    ("ingest/leak.py", "from pipelines.build import ruleset\n",
     "pipelines.ingest is not allowed to import pipelines.build"),
    ("render/leak.py", "from pipelines import contracts\n",
     "pipelines.render is not allowed to import pipelines.contracts"),
    ("review/leak.py", "import airflow\n", "pipelines.review is not allowed to import airflow"),
    ("orchestration/leak.py", "import dags.build\n",
     "pipelines.orchestration.leak -> dags"),
    ("stray.py", "", "pipelines.stray"),  # a new top-level module must take a layer
])
def test_a_planted_violation_fails_with_a_clear_message(tmp_path: Path, module: str, code: str,
                                                         message: str) -> None:
    shutil.copytree(PROJECT_ROOT / "pipelines", tmp_path / "pipelines",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / "pipelines" / module).write_text(code, encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
