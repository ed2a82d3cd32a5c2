"""On-disk cache of generated kernel modules: one file per source, imported so numba can cache.

File name: sp_<model key>_<source hash>.py, where the model key hashes everything the source is
generated from (model spec, package version, templates and code generator) and the source hash
the text itself. Files are written atomically (temporary file + rename) and never rewritten.
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from ..errors import ModelError

_PACKAGE = Path(__file__).resolve().parent.parent
_GENERATOR_FILES = ("derive.py", "numeric.py", "codegen/printer.py", "codegen/render.py",
                    "templates", "engine")


def cache_dir():
    """The cache folder: $SPARSEPROP_CACHE_DIR, else $XDG_CACHE_HOME/sparseprop (~/.cache/sparseprop)."""
    root = os.environ.get("SPARSEPROP_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "sparseprop")
    return Path(root)


def _generator_fingerprint():
    digest = hashlib.sha256()
    for name in _GENERATOR_FILES:
        path = _PACKAGE / name
        files = [f for f in path.rglob("*") if f.suffix in (".py", ".j2")] if path.is_dir() else [path]
        for file in sorted(files):
            digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


def model_key(spec):
    """The hash naming a model's cache entries."""
    from .. import __version__
    text = "\n".join([__version__, _generator_fingerprint(), spec])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def candidates(key):
    """Cached module files for a model key, oldest first."""
    folder = cache_dir()
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"sp_{key}_*.py"), key=lambda p: p.stat().st_mtime)


def store(key, source):
    """Write `source` under its hash (atomic; a present file is kept). Returns the path."""
    folder = cache_dir()
    path = folder / f"sp_{key}_{hashlib.sha256(source.encode()).hexdigest()[:16]}.py"
    if path.exists():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp_", suffix=".py")
        with os.fdopen(fd, "w") as handle:
            handle.write(source)
        os.replace(tmp, path)
    except OSError as exc:
        raise ModelError(f"cannot write the kernel cache in {folder} ({exc}); set "
                         f"SPARSEPROP_CACHE_DIR to a writable folder") from None
    return path


def load(path):
    """Import a cached module file (its numba functions then load or build their machine code)."""
    folder = hashlib.sha256(str(path.resolve().parent).encode()).hexdigest()[:8]
    name = f"sparseprop_kernels_{folder}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
