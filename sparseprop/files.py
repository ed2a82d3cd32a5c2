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


__all__ = ["file_path", "target_of", "write_atomically"]
