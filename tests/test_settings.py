"""Every setting is documented in the README (datasette's rule: undocumented = a failing test)."""

from __future__ import annotations

import os

from pipelines import settings
from pipelines.settings import PROJECT_ROOT, DataHome


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in settings.SETTINGS if f"`{s.name}`" not in readme]
    assert missing == [], f"document these settings in README.md: {missing}"


def test_no_module_reads_the_environment_for_configuration_behind_the_table() -> None:
    offenders = []
    for path in (PROJECT_ROOT / "pipelines").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "os.environ.get(\"CADRE_" in line or "os.environ[\"CADRE_" in line:
                offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


def test_data_home_keeps_all_state_under_one_folder(tmp_path) -> None:  # noqa: ANN001
    home = DataHome.from_env(tmp_path / "x").ensure()
    for path in (home.inbox, home.archive, home.work, home.outbox, home.warehouse_file,
                 home.published_file, home.keys, home.reports, home.airflow_home):
        assert os.path.commonpath([path, home.root]) == str(home.root)
