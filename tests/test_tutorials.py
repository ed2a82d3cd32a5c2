"""Every tutorial runs to the end."""
import runpy
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parent.parent / "tutorials").glob("*.py"))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs(path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # plots land here
    monkeypatch.setenv("SPARSEPROP_QUICK", "1")      # small sizes (tutorial 5 says how)
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out
