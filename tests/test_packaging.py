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
