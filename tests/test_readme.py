"""The README's examples run, and its main-job command works."""
import re
from pathlib import Path

import pytest

from sparseprop.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", README, re.S))
def test_readme_python_examples_run(block, capsys):
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out


def test_readme_main_job_command_runs(capsys):
    line = next(ln.strip() for ln in README.splitlines() if "sparseprop explain" in ln)
    args = line.split("sparseprop ", 2)[-1].split()
    assert args[:2] == ["explain", "lif"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "T = tau*(log(I) - log(I - 1)) = 23.97895273" in out
    assert "kernels:" in out and "PTC(T/2" in out
