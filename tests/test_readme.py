"""The README's examples run, and its main-job command works."""
import re
from pathlib import Path

import pytest

from sparseprop.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", README, re.S))
def test_readme_python_examples_run(block, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # files the examples write land here
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out


def test_readme_main_job_command_runs(capsys):
    line = next(ln.strip() for ln in README.splitlines() if "sparseprop simulate" in ln)
    args = line.split("&& sparseprop ", 1)[1].split()
    assert args[0] == "simulate" and "100000" in args
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "synaptic events/s" in out and "rate" in out
