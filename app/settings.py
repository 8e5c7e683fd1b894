"""The app's settings, read once from the environment (one home per setting).

========================  ==================================================================
variable                  meaning
========================  ==================================================================
``SPL_DB``                SQLite path (default ``/data/spl.db`` on a ``/data`` volume, else
                          ``data/spl.db``)
``SPL_RUNS``              run folders (``os.pathsep``-separated) or a folder with spl/ vpl/ btl/
``SPL_ADMIN_TOKEN``       enables the study-owner tools (exports, counts, attention checks)
``SPL_COMPLETION_URL``    redirect shown at the end; ``{code}`` is replaced by the code
``SPL_COMPLETION_CODE``   a fixed completion code (e.g. the study's Prolific code)
``SPACE_ID``              set by Hugging Face Spaces; with no ``/data`` volume, the UI warns
                          that storage is ephemeral
``PORT`` /                the port to serve on (default 7860)
``GRADIO_SERVER_PORT``
``SPL_QUERY_ORDER``       ``active`` (default): the model picks each next pair (BALD, see
                          ``spl_model.active``); ``fixed``: the pack's order, e.g. for a
                          study's control arm. Stored per session and per label
``SPL_MIN_ANSWERS``       the fewest real answers (A, B or tie; skips and attention repeats
                          do not count) before a session gets its completion code (default 0)
``SPL_FAST_SECONDS``      a session whose median time per answer is below this is flagged
                          ``too_fast`` in the export and the stats (default 2)
``SPL_APP_VERSION``       the app version stored with each label (default: the git commit)
``SPL_TORCH_THREADS``     torch intra-op threads (default 1: the models are tiny, and on a
                          busy 2-core machine 2 threads make a posterior update ~10x slower;
                          concurrent visitors run in parallel threads anyway)
========================  ==================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Everything the UI and handlers need to know about the deployment."""

    db_path: Path = Path("data/spl.db")
    runs: str | None = None
    admin_token: str | None = None
    completion_url: str | None = None
    completion_code: str | None = None
    on_space: bool = False
    storage_persistent: bool = True
    port: int = 7860
    host: str = "127.0.0.1"
    torch_threads: int = 1
    query_order: Literal["active", "fixed"] = "active"  # how new sessions pick the next pair
    min_answers: int = 0  # real answers needed before /finish gives a completion code
    fast_seconds: float = 2.0  # median seconds per answer below which a session is too_fast

    @property
    def quality(self) -> dict[str, float | int]:
        """The thresholds of the export's session flags (``app.export.session_quality``)."""
        return {"fast_seconds": self.fast_seconds, "min_answers": self.min_answers}

    @property
    def storage_warning(self) -> str | None:
        """The banner to show when labels may be lost on restart, else None."""
        if self.on_space and not self.storage_persistent:
            return ("Storage is ephemeral: this Space has no persistent /data volume, so "
                    "labels are lost when it restarts.")
        return None

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 data_dir: Path = Path("/data")) -> Settings:
        from app.store import default_db_path

        env = os.environ if environ is None else environ
        db_path = default_db_path(env, data_dir)
        on_space = bool(env.get("SPACE_ID"))
        persistent = Path(db_path).expanduser().resolve().is_relative_to(data_dir.resolve()) \
            if on_space else True
        port_text = env.get("PORT") or env.get("GRADIO_SERVER_PORT") or "7860"
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError(f"PORT={port_text!r} is not a port number; use e.g. 7860.") from None
        host = env.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_space else "127.0.0.1")
        threads_text = env.get("SPL_TORCH_THREADS") or "1"
        if not threads_text.isdigit() or int(threads_text) < 1:
            raise ValueError(f"SPL_TORCH_THREADS={threads_text!r} must be a positive integer.")
        order = (env.get("SPL_QUERY_ORDER") or "active").strip().lower()
        if order not in ("active", "fixed"):
            raise ValueError(f"SPL_QUERY_ORDER={env.get('SPL_QUERY_ORDER')!r} must be 'active' "
                             "(the model picks the next pair) or 'fixed' (the pack's order).")
        min_text = (env.get("SPL_MIN_ANSWERS") or "0").strip()
        if not min_text.isdigit():
            raise ValueError(f"SPL_MIN_ANSWERS={min_text!r} must be a whole number of answers "
                             "(0: no minimum).")
        fast_text = (env.get("SPL_FAST_SECONDS") or "2").strip()
        try:
            fast = float(fast_text)
        except ValueError:
            fast = -1.0
        if not fast >= 0:
            raise ValueError(f"SPL_FAST_SECONDS={fast_text!r} must be a number of seconds >= 0.")
        return cls(db_path=db_path, runs=env.get("SPL_RUNS") or None,
                   admin_token=env.get("SPL_ADMIN_TOKEN") or None,
                   completion_url=env.get("SPL_COMPLETION_URL") or None,
                   completion_code=env.get("SPL_COMPLETION_CODE") or None,
                   on_space=on_space, storage_persistent=persistent, port=port, host=host,
                   torch_threads=int(threads_text), query_order=order,  # type: ignore[arg-type]
                   min_answers=int(min_text), fast_seconds=fast)
