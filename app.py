"""Serve the SPL demo: ``python app.py`` (127.0.0.1:7860; PORT / GRADIO_SERVER_PORT override).

Only launches: reads the settings from the environment (see ``app/settings.py``), opens the
store and the inference service, builds the Blocks and launches them with the launch-time
options (theme, CSS, keyboard shortcuts). The backbone for typed prompts loads in the
background once the server is up.
"""

from __future__ import annotations

import logging
import os
import threading

for _key, _value in {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
    os.environ.setdefault(_key, _value)


def limit_malloc_arenas(n: int = 2) -> bool:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX=n`` would) unless the environment
    sets ``MALLOC_ARENA_MAX``; call before the server starts its threads. Gradio's worker
    threads each got an arena (up to 8 per core) and fragmented them: under the memory bench
    the server's RSS kept creeping by ~0.5 MB per session after the per-connection state was
    bounded (``bench/results/README.md``). Returns whether the cap was applied."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, n))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False  # not glibc (macOS, musl): nothing to cap


def main() -> None:
    limit_malloc_arenas()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.runs import find_run_folders
    from app.service import Service
    from app.settings import Settings
    from app.store import Store
    from app.ui import build_app, launch_options

    from app.runs import RunError
    from app.service import ServiceError
    from app.store import StoreError
    from spl_model import SPLError

    try:
        settings = Settings.from_env()
        import torch

        torch.set_num_threads(settings.torch_threads)
        service = Service.from_folders(find_run_folders(settings.runs))
        store = Store.open(settings.db_path)
    except (RunError, ServiceError, StoreError, SPLError, ValueError) as err:
        raise SystemExit(f"Error: {err}") from None
    if settings.storage_warning:
        logging.warning(settings.storage_warning)
    demo = build_app(store, service, settings)
    threading.Thread(target=service.warm_up, name="warm-up", daemon=True).start()
    demo.launch(server_name=settings.host, server_port=settings.port, show_error=False,
                **launch_options(service))


if __name__ == "__main__":
    main()
