"""The installed package holds every subpackage, the templates and the shipped models."""
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "sparseprop").rglob("__init__.py")}
    assert on_disk | {"sparseprop.models"} == set(config["packages"])
    assert config["package-dir"]["sparseprop.models"] == "models"
    assert "templates/*.j2" in config["package-data"]["sparseprop"]


def test_runtime_needs_no_test_or_plot_extra(tmp_path):
    """The package (EIF's numeric map included) works with scipy, matplotlib, pytest and
    hypothesis unavailable: they are extras, not runtime dependencies."""
    import subprocess
    code = ("import sys\n"
            "for name in ('scipy', 'matplotlib', 'pytest', 'hypothesis'):\n"
            "    sys.modules[name] = None\n"
            "import sparseprop\n"
            "k = sparseprop.load_model('eif').compile()\n"
            "net = sparseprop.Network('eif', 50, sparseprop.fixed_outdegree(5, -0.05, seed=1), seed=1)\n"
            "print(k.period(), net.run(duration=50.0).n_spikes)\n")
    env = {"SPARSEPROP_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
