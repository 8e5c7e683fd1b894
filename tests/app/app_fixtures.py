"""Helpers shared by the app and browser tests: tiny run folders and a fake backbone.

``FakeEmbedder`` is a deterministic hash-to-vector embedder (sha256 of the text seeds a
generator; unit-norm, 384 dims) with the backbone's ``.dim`` / ``.embed`` / ``.identity``
interface, so the suite never loads a transformer. ``make_runs`` writes SPL, VPL and BTL run
folders in the trainer's contract (model.safetensors + config.json via ``save_model``, a fake
report.json, latent_map.json and a plot) with small random models.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

for key, value in {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                   "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
    os.environ.setdefault(key, value)

import torch  # noqa: E402

DIM = 384
TYPES = ["concise", "friendly", "steps", "cautious"]
# a 1x1 transparent PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
                       "60e6kgAAAABJRU5ErkJggg==")


class FakeEmbedder:
    """Deterministic text -> unit vector; counts the texts it embedded."""

    dim = DIM

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def identity(self) -> dict[str, str]:
        return {"backbone": "fake"}

    def embed(self, texts: list[str]) -> torch.Tensor:
        self.calls += 1
        self.texts += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vec = torch.randn(DIM, generator=torch.Generator().manual_seed(seed))
            rows.append(vec / vec.norm())
        return torch.stack(rows)


def make_run(folder: Path, kind: str, seed: int = 0, latent_dim: int = 8,
             backbone: str = "fake") -> Path:
    from spl_model import ModelConfig, build_model, save_model

    torch.manual_seed(seed)
    cfg = ModelConfig(kind=kind, embed_dim=DIM, latent_dim=latent_dim if kind != "btl" else 0,
                      hidden_dim=16)
    model = build_model(cfg).eval()
    metadata = {"backbone": {"name": backbone, "quantize": "none"}, "embed_dim": DIM,
                "dataset": {"name": "synthetic", "user_types": TYPES, "attributes": TYPES},
                "fit": {"steps": 1}, "model_kind": kind}
    save_model(model, folder, metadata)
    latent = kind != "btl"
    report = {"model": kind, "backbone": "fake", "dataset": "synthetic", "n_eval_pairs": 100,
              "accuracy": 0.8, "accuracy_controversial": 0.7, "accuracy_unseen": 0.6,
              "accuracy_by_user": {t: 0.8 for t in TYPES},
              "accuracy_by_context_size": {"2": 0.7, "8": 0.9},
              "active_units": 3 if latent else None, "active_units_share": 0.375 if latent else None,
              "active_units_z": 3 if latent else None,
              "active_units_z_share": 0.375 if latent else None,
              "latent_dim": latent_dim if latent else None, "au_threshold": 0.005,
              "kl": 1.5 if latent else None, "swap_flip_rate": 0.9 if latent else None,
              "train_seconds": 1.0, "seed": seed}
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "plots").mkdir(exist_ok=True)
    (folder / "plots" / "latent.png").write_bytes(PNG)
    if latent:
        gen = torch.Generator().manual_seed(seed)
        comps = torch.linalg.qr(torch.randn(latent_dim, 2, generator=gen))[0].T  # [2, Z]
        points = [{"x": float(i % 4) + 0.1 * j, "y": float(i // 4), "user_type": TYPES[i % 4]}
                  for i in range(8) for j in range(5)]
        (folder / "latent_map.json").write_text(json.dumps(
            {"method": "pca", "mean": [0.0] * latent_dim, "components": comps.tolist(),
             "points": points}))
        # a confidence map as python -m train calibrate writes it (weights made up here)
        (folder / "calibration.json").write_text(json.dumps({"weights": CALIBRATION}))
    return folder


CALIBRATION = [-0.5, 1.0, 0.8, 0.3]


def make_runs(root: Path, backbone: str = "fake") -> list[Path]:
    return [make_run(root / kind, kind, seed=i, backbone=backbone)
            for i, kind in enumerate(("spl", "vpl", "btl"))]


def build_dataset(folder: Path) -> Path:
    """A small synthetic dataset folder (a second to build)."""
    from train.data.schema import write_dataset
    from train.data.synthetic import SyntheticConfig, build_synthetic

    built = build_synthetic(SyntheticConfig(train_rows=200, test_rows=400, unseen_users=0))
    return write_dataset(folder, built.card, built.splits)




def launch_demo(store, assets_dir: Path, admin_token: str):
    """Serve the runs in ``assets_dir`` (with :class:`FakeEmbedder`) on a port Gradio picks.

    Returns ``(demo, url, service)``; the caller closes ``demo``. Shared by the hostile-input and
    privacy tests, which both need a real server over a store they can inspect.
    """
    from app.runs import find_run_folders
    from app.service import Service
    from app.settings import Settings
    from app.ui import build_app, launch_options
    from bench.appserver import serve_in_process

    service = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                                   embedder=FakeEmbedder())
    demo = build_app(store, service, Settings(db_path=store.path, admin_token=admin_token))
    url = serve_in_process(demo, show_error=False, **launch_options(service))
    return demo, url, service


CALL_TIMEOUT = 120.0  # seconds one API call may take before the test fails (a busy 2-core box)


def deadline_client(url: str, timeout: float = CALL_TIMEOUT, **kwargs):
    """A ``gradio_client.Client`` whose ``predict`` fails after ``timeout`` seconds instead of
    waiting forever on a server that stopped answering (``Client.predict`` has no deadline)."""
    from gradio_client import Client

    class DeadlineClient(Client):
        def predict(self, *args, api_name=None, fn_index=None, headers=None, **kw):
            job = self.submit(*args, api_name=api_name, fn_index=fn_index, headers=headers, **kw)
            return job.result(timeout=timeout)

    return DeadlineClient(url, **kwargs)
