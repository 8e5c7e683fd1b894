"""Bound the memory Gradio keeps per connection (``StateBound``).

Gradio keeps one ``SessionState`` per session hash in ``blocks.state_holder`` (an LRU of
10,000 by default) and never frees it otherwise. Each one holds a copy of every component's
config: about 0.1 MB of Python objects with the shipped runs (tracemalloc), more in RSS. A
browser tab is one session hash; a ``gradio_client`` is one; every plain-HTTP
``/gradio_api/call/NAME`` request is a new one. So the server grew by about 2.4 MB per
participant session under the load bench (``bench/load.py --client raw``, about ten calls per
session), linearly, until 10,000 hashes: several GB.

``StateBound.prune`` evicts, oldest use first:

- **API sessions** (no ``gr.State`` value was ever written: named-endpoint calls keep nothing
  between calls) beyond ``max_api``; a call evicted while queued simply gets a fresh, equally
  empty state;
- the queue's per-hash record of pending event ids, once empty, for the evicted hashes;
- **visitor sessions** (a browser tab: its ``gr.State`` holds the open session id and the pair
  on screen) idle for longer than ``idle_s``, and the oldest beyond ``max_visitors``. A tab
  whose state went away recovers: the UI reads the session id back from the browser
  (``gr.BrowserState``) and the pair on screen from the store (see ``app.ui``).

The app calls ``maybe_prune`` after each event (at most once per ``every_s``); pruning a few
thousand entries takes under a millisecond (0.9 ms for 3,000 on this machine). At most every ``trim_every_s`` it also hands the
C heap's free pages back to the operating system (glibc ``malloc_trim``): what the evicted
states and finished requests freed otherwise stayed in the process's RSS, fragmented.
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StateBound", "trim_heap"]


def trim_heap() -> bool:
    """Return the C heap's free pages to the OS (glibc ``malloc_trim(0)``); False elsewhere."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


@dataclass
class StateBound:
    """Eviction policy for a launched Blocks' ``state_holder`` (see the module docstring)."""

    max_api: int = 256
    max_visitors: int = 1000
    idle_s: float = 2 * 3600.0
    every_s: float = 1.0
    trim_every_s: float = 30.0
    demo: Any = None  # the gr.Blocks; its state_holder exists once launched
    _last: float | None = field(default=None, init=False, repr=False)
    _last_trim: float = field(default_factory=time.monotonic, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def maybe_prune(self) -> int:
        """``prune`` unless it ran less than ``every_s`` ago; returns how many were evicted."""
        now = time.monotonic()
        if (self._last is not None and now - self._last < self.every_s) or not self._lock.acquire(blocking=False):
            return 0
        try:
            self._last = now
            evicted = self.prune()
            if now - self._last_trim >= self.trim_every_s:
                self._last_trim = now
                trim_heap()
            return evicted
        finally:
            self._lock.release()

    def prune(self, holder: Any = None) -> int:
        """Evict per the policy from ``holder`` (default: the demo's); returns the count."""
        holder = holder if holder is not None else getattr(self.demo, "state_holder", None)
        data = getattr(holder, "session_data", None)
        if data is None:
            return 0
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.idle_s)
        with holder.lock:
            order = list(data.items())  # oldest use first (the holder moves used ones last)
            api = [sid for sid, state in order if not state.state_data]
            visitors = [sid for sid, state in order if state.state_data]
            evict = api[:max(0, len(api) - self.max_api)]
            stale = [sid for sid in visitors
                     if holder.time_last_used.get(sid, cutoff) <= cutoff]
            gone = set(stale)
            live = [sid for sid in visitors if sid not in gone]
            evict += stale + live[:max(0, len(live) - self.max_visitors)]
            for sid in evict:
                data.pop(sid, None)
                holder.time_last_used.pop(sid, None)
            kept = set(data)
        self._prune_queue(kept)
        return len(evict)

    def _prune_queue(self, kept: set[str]) -> None:
        """Gradio's queue keeps an (empty, once its events finished) set of event ids per
        session hash until the session is cancelled; drop the empty ones of evicted hashes."""
        pending = getattr(getattr(self.demo, "_queue", None), "pending_event_ids_session", None)
        if not isinstance(pending, dict):
            return
        for sid in [sid for sid, ids in list(pending.items()) if not ids and sid not in kept]:
            pending.pop(sid, None)
