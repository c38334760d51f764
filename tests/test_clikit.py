"""Failures become one sentence and an exit code; the traceback goes to a log file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from hukou.clikit import run_guarded
from hukou.config import get_settings


def _database_down() -> None:
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def _bug() -> None:
    raise KeyError("secret-detail")


def test_database_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run_guarded(_database_down)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "database error" in err
    assert "hukou db upgrade" in err
    assert "Traceback" not in err


def test_unexpected_error_gets_a_reference_and_a_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as raised:
            run_guarded(_bug)
    finally:
        get_settings.cache_clear()
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "internal error" in err
    assert "Traceback" not in err
    assert "secret-detail" not in err
    log = (tmp_path / "logs" / "cli-errors.log").read_text(encoding="utf-8")
    assert "KeyError" in log
    reference = err.split("reference ")[1].split(")")[0]
    assert reference in log
