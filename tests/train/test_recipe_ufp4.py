"""train/recipes/ufp4_llama.sh, the paper's UF-P-4 setting, end to end on CPU.

Integration test (about 45 s on the 2-core machine): the recipe runs unchanged on the UF-P
fixtures with the tiny Llama of ``conftest.tiny_llama_dir`` loaded in 4-bit (bitsandbytes 4-bit
works on CPU, STACK.md) instead of Llama-3.1-8B, and a tiny grid instead of Z = H = 1024. It
goes through all three steps -- data, embed, ``accelerate launch --cpu -m train study`` -- then
runs again to check that nothing finished is recomputed. The dry-run tests check that the
defaults are the paper's hyperparameters and how several GPUs split the batch (bash only).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "train" / "recipes" / "ufp4_llama.sh"
FIXTURES = ROOT / "tests" / "fixtures" / "data"
# every setting the recipe reads from the environment (NAME=${NAME:-default})
SETTINGS = re.findall(r"^(\w+)=\$\{\1:-", SCRIPT.read_text(), re.M)


def recipe(**settings: object) -> subprocess.CompletedProcess:
    """Run the recipe with ``settings`` and nothing else inherited from the caller's settings."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update({"PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
    env.update({k: str(v) for k, v in settings.items()})
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)


def embed_summary(stdout: str) -> dict:
    """The JSON object ``python -m train embed`` prints."""
    found = re.search(r'^\{\n  "backbone".*?^\}$', stdout, re.M | re.S)
    assert found, stdout
    return json.loads(found.group(0))


def test_the_recipe_runs_end_to_end_on_cpu_and_resumes(tmp_path: Path, tiny_llama_dir: Path) -> None:
    settings = dict(
        MODEL=tiny_llama_dir, QUANTIZE="4bit", MAX_LENGTH=64, DEVICE="cpu", EMBED_BATCH=16,
        BINARIZED=FIXTURES / "uf_binarized.jsonl", FINE_GRAINED=FIXTURES / "uf_fine_grained.jsonl",
        POOL_SIZE=4, TEST_FRACTION=0.25,
        DATA=tmp_path / "uf-p-4", CACHE=tmp_path / "cache", OUT=tmp_path / "study",
        SEEDS="0,1", BETAS="1e-3", HIDDEN=16, LATENT=4, EPOCHS=2, BATCH=16, QUIET=1,
    )
    first = recipe(**settings)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = first.stdout.splitlines()
    step3 = next(i for i, line in enumerate(lines) if line.startswith("3. study"))
    assert "-m accelerate.commands.launch --num_processes 1 " in lines[step3 + 1]
    assert "--cpu -m train study" in lines[step3 + 1]
    assert not any(line.startswith("Wrote") for line in lines[:step3])  # the plan comes first

    # the cache holds every text, embedded by the 4-bit tiny Llama
    embedded = embed_summary(first.stdout)
    assert embedded["texts"] > 0 and embedded["newly_embedded"] == embedded["texts"]
    assert embedded["dim"] == 64
    identity = json.loads(next((tmp_path / "cache").glob("*/backbone.json")).read_text())["identity"]
    assert identity["quantize"] == "4bit" and identity["max_length"] == 64
    assert list((tmp_path / "cache").glob("*/shard-*.safetensors"))

    out = tmp_path / "study"
    assert (out / "study.md").read_text().startswith("# ")
    study = json.loads((out / "study.json").read_text())
    rows = {row["variant"]: row for row in study["rows"]}
    assert set(rows) == {"btl", "vpl", "ivpl", "spl"}
    for variant in ("vpl", "spl"):
        row = rows[variant]
        assert row["beta"] == 1e-3 and row["hidden_dim"] == 16 and row["seeds"] == [0, 1]
        for metric in ("accuracy", "active_units_share", "kl"):
            assert row[metric]["n"] == 2 and math.isfinite(row[metric]["mean"]), (variant, metric)
    assert study["config"]["latent_dim"] == 4 and study["config"]["guide_weight"] == 1e-5
    reports = sorted(out.glob("cells/*/report.json"))
    assert len(reports) == 8  # 4 variants x 1 beta x 1 capacity x 2 seeds
    stamps = {p: p.stat().st_mtime_ns for p in reports}

    again = recipe(**settings)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "1. data: " in again.stdout and "skipped" in again.stdout
    assert embed_summary(again.stdout)["newly_embedded"] == 0
    assert {p: p.stat().st_mtime_ns for p in reports} == stamps  # no cell was recomputed
    assert "(8 cells," in again.stdout


def test_the_defaults_are_the_papers_setting() -> None:
    done = recipe(DRY_RUN=1)
    assert done.returncode == 0, done.stderr
    study = done.stdout.splitlines()[-1]
    for flag in ("--backbone meta-llama/Llama-3.1-8B-Instruct", "--quantize 4bit",
                 "--max-length 1024", "--variants btl,vpl,ivpl,spl", "--betas 3e-6",
                 "--capacities paper=1024", "--seeds 31,32,33", "--latent-dim 1024", "--n-flows 2",
                 "--guide-weight 1e-5", "--epochs 2", "--lr 1e-4", "--batch-size 64", "--jobs 1",
                 "-m accelerate.commands.launch --num_processes 1 ", "-m train study"):
        assert flag in study, flag
    assert "--multi_gpu" not in study and "--cpu" not in study


def test_several_gpus_share_the_effective_batch_and_ablations_are_one_switch() -> None:
    done = recipe(DRY_RUN=1, NUM_PROCESSES=4, ABLATIONS=1)
    assert done.returncode == 0, done.stderr
    study = done.stdout.splitlines()[-1]
    assert "--num_processes 4 " in study and "--multi_gpu" in study
    assert "--batch-size 16 " in study  # 4 processes x 16 = the paper's 64
    assert "--variants btl,vpl,ivpl,spl,spl-noguide,spl-nosplit,spl-nofilm " in study
    odd = recipe(DRY_RUN=1, NUM_PROCESSES=3)
    assert odd.returncode == 1 and "BATCH=64 is not divisible by NUM_PROCESSES=3" in odd.stderr
    cpu = recipe(DRY_RUN=1, NUM_PROCESSES=2, DEVICE="cpu")  # accelerate --cpu starts one process
    assert cpu.returncode == 1 and "DEVICE=cpu runs one process" in cpu.stderr
