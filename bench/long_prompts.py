"""Benchmark: what the backbone reads when prompts are longer than its window (issue 15).

Takes a dataset folder (default: a synthetic one it builds), and gives every prompt a long
multi-turn history (earlier Human/Assistant turns drawn from the dataset's own prompts and
responses) so that the rendered texts pass MiniLM's 256 tokens. Then, for the original data
and for the long data under each truncation (``right``: the tokenizer's, as before;
``keep-response``: the prompt is cut in its middle), it reports the share of pairs whose
chosen and rejected texts the backbone sees as the SAME tokens, and the held-out accuracy of
BTL and SPL trained with ``fit``'s defaults on those embeddings. Prints one JSON object.

    python bench/long_prompts.py --out /tmp/long --train-rows 4000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def long_copy(src: Path, dest: Path, turns: int, seed: int) -> Path:
    """``src`` with each prompt (rows and survey) prefixed by ``turns`` earlier exchanges."""
    from train.data.schema import load_dataset, write_dataset

    ds = load_dataset(src)
    rng = random.Random(seed)
    rows = ds.train + ds.test
    prompts = sorted({r["prompt"] for r in rows})
    responses = sorted({t for r in rows for t in (r["chosen"], r["rejected"])})
    history = {}
    for p in prompts:
        parts = []
        for _ in range(turns):
            parts.append(f"Human: {rng.choice(prompts)}\n\nAssistant: {rng.choice(responses)}")
        history[p] = "\n\n".join(parts) + "\n\nHuman: " + p
    fix = lambda r, key="prompt": {**r, key: history.get(r[key], r[key])}  # noqa: E731
    splits = {"train": [fix(r) for r in ds.train], "test": [fix(r) for r in ds.test],
              "survey": [fix(s) for s in ds.survey.values()]}
    card = {**ds.card, "name": ds.card["name"] + "-long",
            "notes": f"{ds.card.get('notes', '')} Prompts prefixed by {turns} earlier turns."}
    card.pop("counts", None)
    write_dataset(dest, card, splits, overwrite=True)
    return dest


def same_text_share(data_dir: Path, truncate: str) -> tuple[float, int]:
    """Share of test+train rows whose chosen and rejected become the same token ids."""
    from spl_model.backbones import Backbone, render, resolve_spec
    from train.data.schema import load_dataset
    from transformers import AutoTokenizer

    from spl_model.backbones import _minilm_path

    spec = resolve_spec("minilm", truncate=truncate)  # type: ignore[arg-type]
    tok = AutoTokenizer.from_pretrained(str(_minilm_path()))
    fitter = Backbone.__new__(Backbone)
    fitter.spec, fitter.tokenizer = spec, tok
    ds = load_dataset(data_dir)
    rows = ds.train + ds.test
    chosen = fitter.fit_text([render(r["prompt"], r["chosen"]) for r in rows])
    rejected = fitter.fit_text([render(r["prompt"], r["rejected"]) for r in rows])
    ids = lambda texts: tok(texts, truncation=True, max_length=spec.max_length)["input_ids"]  # noqa: E731
    same = sum(a == b for a, b in zip(ids(chosen), ids(rejected)))
    return same / len(rows), len(rows)


def fit_accuracy(data_dir: Path, cache: Path, truncate: str, kinds: list[str], out: Path) -> dict:
    from train.fit import FitConfig, fit, model_config, prepare_data

    data = prepare_data(data_dir, cache, truncate=truncate)
    result = {}
    for kind in kinds:
        cfg = model_config(kind, data.embeddings.shape[1], data, {})
        report = fit(data, out / f"{data_dir.name}-{truncate}-{kind}", cfg, FitConfig(),
                     progress=False, save_weights=False, plots=False).report
        result[kind] = {"accuracy": round(report["accuracy"], 4),
                        "accuracy_train": round(report["accuracy_train"], 4),
                        "learned_nothing": report["learned_nothing"] is not None}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="work folder")
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (default: build)")
    parser.add_argument("--cache", type=Path, default=None, help="embedding cache [OUT/cache]")
    parser.add_argument("--train-rows", type=int, default=4000)
    parser.add_argument("--turns", type=int, default=6, help="earlier exchanges per prompt")
    parser.add_argument("--models", default="btl,spl")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.cache or args.out / "cache"
    data = args.data
    if data is None:
        from train.data.schema import write_dataset
        from train.data.synthetic import SyntheticConfig, build_synthetic

        data = args.out / "short"
        if not (data / "dataset.json").is_file():
            cfg = SyntheticConfig(train_rows=args.train_rows, test_rows=1000, unseen_users=0)
            built = build_synthetic(cfg)
            write_dataset(data, built.card, built.splits, overwrite=True)
    long = long_copy(data, args.out / "long", args.turns, seed=0)
    kinds = args.models.split(",")
    runs = args.out / "runs"
    results = {"turns": args.turns, "models": kinds, "conditions": {}}
    for name, folder, truncate in (("short prompts", data, "keep-response"),
                                   ("long prompts, right truncation", long, "right"),
                                   ("long prompts, keep-response", long, "keep-response")):
        share, n = same_text_share(folder, truncate)
        results["conditions"][name] = {"same_text_share": round(share, 4), "rows": n,
                                       **fit_accuracy(folder, cache, truncate, kinds, runs)}
        print(json.dumps({name: results["conditions"][name]}), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
