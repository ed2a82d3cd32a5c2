"""The shipped models (models/*.toml) and user model files: load_model, list_models."""
import importlib.resources
import os
from pathlib import Path

from .errors import ModelError
from .files import check_fields, read_toml
from .model import NeuronModel

_FIELDS = {"name", "description", "reference", "time_unit", "equations", "threshold", "reset",
           "on_pre", "parameters", "method", "refractory"}
_REQUIRED = ("equations", "threshold", "reset")
_TEXT_FIELDS = ("name", "description", "reference", "time_unit", "method")   # the others are
# checked by NeuronModel (equations, threshold, reset, on_pre, parameters, refractory)
_MAX_BYTES = 1 << 20     # a model file is a few hundred bytes; anything this large is not one


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
    table = read_toml(path_or_resource, f"model file {where}", _MAX_BYTES,
                      "a model file holds a few fields of text (see models/lif.toml)")
    check_fields(table, f"model file {where}", _FIELDS, _REQUIRED)
    if not isinstance(table.get("parameters", {}), dict):
        raise ModelError(f"'parameters' in {where} must be a table: [parameters] then name = value")
    for field in _TEXT_FIELDS:
        if field in table and not isinstance(table[field], str):
            raise ModelError(f"'{field}' in model file {where} must be a string (in quotes); got "
                             f"{table[field]!r:.60}")
    if table.get("time_unit", "ms") != "ms":
        raise ModelError(f"time_unit = {table['time_unit']!r} in model file {where}: times are "
                         f"in ms (the only unit supported); write time_unit = \"ms\" and give "
                         f"the time constants in ms")
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
        try:
            is_file = path.is_file()
        except (OSError, ValueError):      # e.g. a name too long for the file system
            is_file = False
        if not is_file:
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
