"""``make demo`` runs any number of times: a reset starts the folder afresh, says what it keeps."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.dev.demo import has_state, reset_message, reset_state, stage_samples
from pipelines.settings import PROJECT_ROOT, DataHome

runner = CliRunner()


def test_samples_can_be_staged_twice_after_a_reset(home: DataHome) -> None:
    first = stage_samples(home, cadres=12)
    assert has_state(home)
    (home.airflow_home / "airflow.db").parent.mkdir(parents=True, exist_ok=True)
    (home.airflow_home / "airflow.db").write_bytes(b"kept")
    reset_state(home)
    assert not has_state(home)
    assert (home.airflow_home / "airflow.db").read_bytes() == b"kept"  # said to be kept
    assert stage_samples(home, cadres=12) == first  # the second run does not trip on the first
    message = reset_message(home)
    assert "kept airflow/" in message and "samples/" in message and "warehouse/" in message


def test_demo_without_reset_refuses_a_folder_in_use(home: DataHome) -> None:
    stage_samples(home, cadres=12)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 2
    assert "--reset" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_make_demo_passes_reset() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "cadre demo --reset" in recipe
