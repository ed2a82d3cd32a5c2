"""The shipped models (models/*.toml) and user model files: load_model, list_models."""
import importlib.resources
import os
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

from .errors import ModelError
from .model import NeuronModel

_FIELDS = {"name", "description", "reference", "time_unit", "equations", "threshold", "reset",
           "on_pre", "parameters", "method", "refractory"}
_REQUIRED = ("equations", "threshold", "reset")


def _models_folder():
    """models/ as installed (package sparseprop.models) or, in a source checkout, beside the package."""
    try:
        return importlib.resources.files("sparseprop.models")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "models"


def _shipped():
    return {p.name[:-5]: p for p in _models_folder().iterdir() if p.name.endswith(".toml")}


def read_model_file(path_or_resource):
    """The table of a model file, checked for required and unknown fields."""
    where = str(path_or_resource)
    try:
        table = tomllib.loads(path_or_resource.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file {where}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model file {where} is not valid TOML: {exc}") from None
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ModelError(f"unknown field '{unknown[0]}' in model file {where}; the fields are "
                         f"{', '.join(sorted(_FIELDS))}")
    missing = [f for f in _REQUIRED if f not in table]
    if missing:
        raise ModelError(f"model file {where} lacks '{missing[0]}' (required: {', '.join(_REQUIRED)})")
    if not isinstance(table.get("parameters", {}), dict):
        raise ModelError(f"'parameters' in {where} must be a table: [parameters] then name = value")
    return table


def load_model(name_or_path, refractory=None, **parameters):
    """A NeuronModel from a shipped model name ('lif', 'qif', 'theta', 'pif') or a TOML file path.

    Keyword arguments override the file's default parameter values, e.g. load_model('lif', I=1.2);
    refractory (ms) overrides the file's refractory period.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ModelError(f"load_model({name_or_path!r}): give a shipped model's name or the path "
                         f"of a model file")
    shipped = _shipped()
    if isinstance(name_or_path, str) and name_or_path in shipped:
        source, default_name = shipped[name_or_path], name_or_path
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ModelError(f"no model '{name_or_path}': neither a shipped model "
                             f"({', '.join(sorted(shipped))}) nor a model file")
        source, default_name = path, path.stem
    table = read_model_file(source)
    values = dict(table.get("parameters", {}))
    unknown = [k for k in parameters if k not in values]
    if unknown:
        raise ModelError(f"'{unknown[0]}' is not a parameter of {default_name}; its parameters "
                         f"are {', '.join(values) or 'none'}")
    values.update(parameters)
    return NeuronModel(table["equations"], table["threshold"], table["reset"],
                       on_pre=table.get("on_pre"), parameters=values,
                       name=table.get("name", default_name), method=table.get("method", "auto"),
                       refractory=table.get("refractory", 0.0) if refractory is None else refractory)


def list_models():
    """[(name, description)] of the shipped models."""
    return [(name, read_model_file(path).get("description", "").strip())
            for name, path in sorted(_shipped().items())]
