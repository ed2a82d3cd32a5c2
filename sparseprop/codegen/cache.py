"""On-disk cache of generated kernel modules: one file per source, imported so numba can cache.

File name: sp_<model key>_<source hash>.py, where the model key hashes everything the source is
generated from (model spec, package version, templates and code generator) and the source hash
the text itself. A file is imported only when its content has the hash its name carries (a
truncated or edited file is refused), under a module name made of the file name alone: numba's
cached machine code names the module it was compiled in, so a copied or moved folder is reused
as it is. Files are written atomically (temporary file + rename) with the usual permissions
(0666 less the umask, so a shared cache works). One process at a time generates the files of a
model key (`lock`); the others wait and load its file.
"""
import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import secrets
import sys
import time
from pathlib import Path

from .._version import __version__
from ..errors import ModelError

log = logging.getLogger("sparseprop")

_PACKAGE = Path(__file__).resolve().parent.parent
_GENERATOR_FILES = ("derive.py", "numeric.py", "equations.py", "linear.py", "derive_linear.py",
                    "codegen/printer.py", "codegen/render.py", "codegen/render_linear.py",
                    "templates", "engine")
HASH_LENGTH = 16        # hex digits of a hash in a file name
LOCK_WAIT = 600.0       # seconds to wait for another process generating the same model
_POLL = 0.05            # seconds between two attempts to take a held lock


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
    text = "\n".join([__version__, _generator_fingerprint(), spec])
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def source_hash(data):
    """The hash of a module's source (text, or its UTF-8 bytes) that its file name carries."""
    data = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def candidates(key):
    """Cached module files for a model key, by name (not by date: a copy changes dates)."""
    folder = cache_dir()
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"sp_{key}_*.py"))


def mismatch(path):
    """None when the file's content has the hash in its name, else what is wrong (a text)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc})"
    named, actual = path.stem.rsplit("_", 1)[-1], source_hash(data)
    if actual != named:
        return (f"its content ({len(data)} bytes) has hash {actual}, its name says {named}: "
                f"the file was truncated or edited")
    return None


def discard(path):
    """Remove a cached file that failed its check (a folder that refuses is left as it is: the
    file then fails the check again, and is skipped, the next time)."""
    with contextlib.suppress(OSError):
        path.unlink()


def store(key, source):
    """Write `source` under its hash (atomic, mode 0666 less the umask). A present file with
    that content is kept; a damaged one is replaced. Returns the path."""
    folder = cache_dir()
    path = folder / f"sp_{key}_{source_hash(source)}.py"
    if path.exists() and mismatch(path) is None:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp_{os.getpid()}_{secrets.token_hex(8)}.py"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # the umask applies
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(source.encode())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    except OSError as exc:
        raise ModelError(f"cannot write the kernel cache in {folder} ({exc}); set "
                         f"SPARSEPROP_CACHE_DIR to a writable folder") from None
    return path


def load(path):
    """Import a cached module file (its numba functions then load or build their machine code).
    ModelError if its content does not have the hash in its name. A module of that name
    imported before (from this or another folder) has the same source, and is returned."""
    problem = mismatch(path)
    if problem is not None:
        raise ModelError(f"cached module {path}: {problem}")
    name = f"sparseprop_kernels_{path.stem}"
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


@contextlib.contextmanager
def lock(key, what):
    """Hold the lock of a model key while generating its files, so one process derives and
    the others wait and then load its file (fcntl.flock on sp_<key>.lock in the cache folder,
    released by the system if the holder dies). Yields True when held. While another process
    holds it, says so on stderr (`what`: the model's name) and waits up to LOCK_WAIT seconds.
    A lock that cannot be had (a read-only folder, a file system without locks, a holder
    busy for longer) yields False: the caller goes on alone, which only duplicates the work,
    since every process generates the same file."""
    fd = _open_lock_file(cache_dir() / f"sp_{key}.lock")
    try:
        yield fd is not None and _acquire(fd, what)
    finally:
        if fd is not None:
            os.close(fd)   # releases the lock


def _open_lock_file(path):
    """A descriptor of the lock file (created if needed), or None when there can be none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        pass
    try:
        return os.open(path, os.O_RDONLY)   # flock needs no write access to the file
    except OSError as exc:
        log.info("no lock file %s (%s): generating without the lock", path, exc)
        return None


def _acquire(fd, what):
    """Take the exclusive lock on fd, waiting up to LOCK_WAIT seconds; False if not had."""
    deadline = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError as exc:   # e.g. ENOLCK: the file system has no locks
            log.info("%s: cannot lock the kernel cache (%s): generating without the lock",
                     what, exc)
            return False
        if deadline is None:
            deadline = time.monotonic() + LOCK_WAIT
            print(f"sparseprop: waiting for another process compiling {what} (kernels cached "
                  f"in {cache_dir()})", file=sys.stderr, flush=True)
        if time.monotonic() >= deadline:
            log.warning("%s: the kernel cache stayed locked for %g s; generating without the "
                        "lock", what, LOCK_WAIT)
            return False
        time.sleep(_POLL)
