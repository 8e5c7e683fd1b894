"""Run by test_fit_ddp.py under ``torch.distributed.run`` with 2 CPU processes (gloo).

Each process trains through ``train.fit.fit`` (accelerate wraps the model in DDP) and writes
the sha256 of its final weights, so the test can check that both ended identical.
"""

import hashlib
import os
import sys
from pathlib import Path

from train.fit import FitConfig, fit, model_config, prepare_data


def main(root: Path) -> None:
    data = prepare_data(root / "data", root / "cache")
    cfg = model_config("spl", 384, data, {"latent_dim": 8, "hidden_dim": 16})
    result = fit(data, root / "run", cfg, FitConfig(max_steps=5, batch_size=8, eval_every=100), progress=False)
    weights = b"".join(t.detach().cpu().numpy().tobytes() for t in result.model.state_dict().values())
    (root / f"rank{os.environ['RANK']}.sha").write_text(hashlib.sha256(weights).hexdigest())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
