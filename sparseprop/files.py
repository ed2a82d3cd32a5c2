"""Files the package writes (results, plots, networks): paths checked, written atomically (a
temporary file in the target's folder, renamed into place; nothing left behind on failure), with
the permissions of an ordinary new file (0666 less the umask)."""
import os
import tempfile
from pathlib import Path

from .errors import ModelError


def file_path(path, doing):
    """A file path (str or os.PathLike) as a Path; ModelError for anything else. `doing`
    completes "cannot ... <path>", e.g. "save the result to"."""
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"cannot {doing} {path!r:.60}: give a file path (a str or a "
                         f"pathlib.Path) such as 'spikes.npz'")
    try:
        return Path(path)
    except TypeError:       # an os.PathLike whose __fspath__ gives bytes
        raise ModelError(f"cannot {doing} {path!r:.60}: give a file path (a str or a "
                         f"pathlib.Path) such as 'spikes.npz'") from None


def target_of(path, doing):
    """The regular file a write to `path` replaces (through links); ModelError when it is a
    directory, device or pipe, or its folder does not exist."""
    path = file_path(path, doing)
    try:
        target = Path(os.path.realpath(path))     # through links: the file they point to
        unfit = target.exists() and not target.is_file()
        folder = target.parent.is_dir()
    except (OSError, ValueError) as exc:         # e.g. a name too long, a NUL character
        raise ModelError(f"cannot {doing} {path}: {exc}") from None
    if unfit:
        raise ModelError(f"cannot {doing} {path}: it exists and is not a regular file (a "
                         f"directory, device or pipe), which saving would replace; give the "
                         f"path of a new or regular file")
    if not folder:
        raise ModelError(f"cannot {doing} {path}: its folder {target.parent} does not exist")
    return target


def write_atomically(path, doing, write):
    """Call write(binary file handle) on a temporary file beside `path`'s target, then rename it
    into place; ModelError (naming `path`) when that fails, and no file left behind."""
    target = target_of(path, doing)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp_", suffix=target.suffix)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, (OSError, ValueError)):
            raise ModelError(f"cannot {doing} {path}: {exc}") from None
        raise
    return target


def read_toml(source, what, limit, hint):
    """The table of a TOML file (a path, or a resource with .open), at most `limit` bytes;
    ModelError naming `what` (e.g. "model file x.toml") when it cannot be read, is larger
    (`hint` says what such a file holds) or is not valid TOML."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        with (source.open("rb") if hasattr(source, "open") else open(source, "rb")) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ModelError(f"{what} is larger than {limit} bytes; {hint}")
        return tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read {what}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{what} is not valid TOML: {exc}") from None


def check_fields(table, where, fields, required):
    """`table` (from a TOML file) if it is a table with only `fields` and every `required`
    one; ModelError naming `where` and the field otherwise."""
    if not isinstance(table, dict):
        raise ModelError(f"{where} must be a table (name = value lines); got {table!r:.60}")
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ModelError(f"unknown field '{unknown[0]}' in {where}; the fields are "
                         f"{', '.join(sorted(fields))}")
    missing = [f for f in required if f not in table]
    if missing:
        raise ModelError(f"{where} lacks '{missing[0]}' (required: {', '.join(required)})")
    return table


__all__ = ["check_fields", "file_path", "read_toml", "target_of", "write_atomically"]
