"""One atomic, durable file write for every artifact the project writes (checkpoints, reports,
the embedding cache, resume state, exports).

The rule: write a temporary file beside the target (``.<name>.<random>.tmp``, same folder so the
rename stays on one file system), flush it to disk (``fsync``), rename it over the target
(``os.replace``: atomic on POSIX and Windows), then ``fsync`` the folder so the rename itself
survives a power cut where the OS allows it. A reader sees the old file or the new one, whole,
never a mix; a failed write leaves the old file and no temporary file.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.json", '{"x": 1}\\n').read_text()
    '{"x": 1}\\n'
    >>> sorted(p.name for p in folder.iterdir())
    ['a.json']
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "sync_folder"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str | Callable[[Path], object]) -> Path:
    """Replace ``path`` with ``data``, whole or not at all (the module's rule); returns the path.

    ``data`` is bytes, text (written as UTF-8), or a function that writes the file at the path
    it is given (e.g. ``lambda p: safetensors.torch.save_file(tensors, str(p))``).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        if callable(data):
            data(tmp)
        else:
            tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # e.g. a name too long: keep the original error
            tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return path


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable where the OS allows (POSIX); a no-op elsewhere."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
