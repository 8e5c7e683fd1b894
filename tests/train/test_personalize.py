"""The population world end to end on a tiny build with fake embeddings: fit with several
targets per context and empty contexts, few-shot fields in the report, the calibrate and
personalize commands, and the app reading the calibrator."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from fit_helpers import fill_cache
from train.cli import cli
from train.data.schema import write_dataset
from train.data.synthetic import SyntheticConfig, build_synthetic

TINY = SyntheticConfig(world="population", population_users=80, rows_per_user=4, heldout_users=12,
                       rows_per_heldout_user=4, persona_users=2, pool_size=60)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("population")
    built = build_synthetic(TINY)
    data = root / "data"
    write_dataset(data, built.card, built.splits)
    fill_cache(data, root / "cache")
    return data, root / "cache"


def fit(data: Path, cache: Path, out: Path, kind: str, *extra: str) -> dict:
    result = CliRunner().invoke(cli, [
        "fit", "--data", str(data), "--cache", str(cache), "--model", kind, "--out", str(out),
        "--latent-dim", "4", "--hidden-dim", "16", "--max-steps", "6", "--batch-size", "16",
        "--eval-every", "3", "--quiet", *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "report.json").read_text())


def test_population_fit_report_and_personalize(population, tmp_path: Path) -> None:
    data, cache = population
    runs = {}
    for kind, extra in [("spl", ["--targets-per-context", "3"]), ("vpl", []), ("btl", []),
                        ("oracle", [])]:
        runs[kind] = tmp_path / kind
        report = fit(data, cache, runs[kind], kind, *extra)
        few = report["fewshot"]
        assert few["k"] == [0, 1, 2, 4, 8, 12]
        assert set(few["random"]) == {"heldout", "personas"}
        assert all(len(v) == 6 and all(0 <= a <= 1 for a in v) for v in few["random"].values())
        if kind in ("btl", "oracle"):  # no context read: flat in k
            assert len(set(few["random"]["heldout"])) == 1
    # the app's confidence: calibrate writes calibration.json, the app's loader reads it
    result = CliRunner().invoke(cli, ["calibrate", "--run", str(runs["spl"]), "--data", str(data),
                                      "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    calib = json.loads((runs["spl"] / "calibration.json").read_text())
    assert len(calib["weights"]) == 4 and 0 <= calib["measured"]["ece"] <= 1
    from app.runs import load_run

    assert load_run(runs["spl"]).calibrator is not None
    refused = CliRunner().invoke(cli, ["calibrate", "--run", str(runs["btl"]), "--data", str(data),
                                       "--cache", str(cache)])
    assert refused.exit_code != 0 and "no posterior" in refused.output
    # the report: every key of DESIGN.md, lists aligned with k
    out = tmp_path / "results" / "personalize"
    args = ["personalize", "--data", str(data), "--cache", str(cache), "--points", "5000",
            "--out", str(out), "--calibration", str(runs["spl"] / "calibration.json")]
    for kind, folder in runs.items():
        args += ["--run", f"{kind}={folder}"]
    refused = CliRunner().invoke(cli, [*args, "--refine", "btl"])
    assert refused.exit_code != 0 and "--refine btl: name a run given with --run that has a latent" in refused.output
    result = CliRunner().invoke(cli, [*args, "--refine", "spl"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["k"] == [0, 1, 2, 4, 8, 12]
    assert set(report["accuracy"]) == {"bayes", "bayes_readout", "lowrank", "spl", "vpl", "btl",
                                      "oracle", "spl+refine"}
    # refinement needs answers: with none, the refined model is the model
    assert report["accuracy"]["spl+refine"][0] == report["accuracy"]["spl"][0]
    assert report["accuracy"]["spl+refine"][1:] != report["accuracy"]["spl"][1:]
    assert all(len(v) == 6 for v in report["accuracy"].values())
    assert set(report["personas_k2"]) >= {"bayes", "spl"}
    assert 0 <= report["confidence_ece"] <= 1 and "labels_saved_active" in report
    bayes = report["accuracy"]["bayes"]
    # twelve answers tell the ceiling a lot (it reads attributes, not embeddings)
    assert bayes[-1] > 0.6 and bayes[-1] > bayes[0] + 0.05
    # the ceiling in its own BALD order: with no answers or all twelve the order is moot
    active = report["accuracy_active"]["bayes"]
    assert active[0] == bayes[0] and active[-1] == bayes[-1] and active != bayes
    assert "bayes_labels_saved_active" in report and "Bayes ceiling asking" in out.with_suffix(".md").read_text()
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "Bayes" in out.with_suffix(".md").read_text()
    # each run's row says what its recipe changes (spl's fit used 3 targets per context)
    assert report["recipes"]["spl"] == "the reference recipe"
    assert "kind=vpl" in report["recipes"]["vpl"] and "targets_per_context=1" in report["recipes"]["vpl"]
    assert "| vpl | " in out.with_suffix(".md").read_text()


def test_personalize_refuses_a_types_world(tmp_path: Path) -> None:
    from fit_helpers import make_dataset

    data = make_dataset(tmp_path / "types")
    fill_cache(data, tmp_path / "cache")
    result = CliRunner().invoke(cli, ["personalize", "--data", str(data), "--cache",
                                      str(tmp_path / "cache"), "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "population-world" in result.output


def test_empty_contexts_train_and_score(population) -> None:
    """Rows with no answers are in the population train split; a model trains on them."""
    from spl_model import ModelConfig, build_model
    from train.fit import prepare_data

    data, cache = population
    prepared = prepare_data(data, cache)
    train = prepared.splits["train"]
    empty = ~train.ctx_mask.any(1)
    assert bool(empty.any()) and bool((~empty).any())
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=384, latent_dim=4, hidden_dim=8))
    rows = torch.cat([empty.nonzero()[:4, 0], (~empty).nonzero()[:4, 0]])
    terms = model.loss(train.batch(rows, prepared.embeddings))
    assert torch.isfinite(terms["total"])
    terms["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_readout_bayes_equals_the_ceiling_when_embeddings_are_linear_in_attributes(population) -> None:
    """Embeddings that are an exact linear image of the attributes lose nothing: the read-out
    posterior then scores like the world's ceiling; noise in the embeddings costs accuracy."""
    from train.fit import prepare_data
    from train.personalize import bayes_curve, readout_deltas

    data, cache = population
    prepared = prepare_data(data, cache)
    ds = prepared.dataset
    attrs = _attributes_of_texts(prepared)
    linear, g = _linear_embeddings(prepared, attrs)
    prepared = dataclasses.replace(prepared, embeddings=linear)
    ctx, targets = readout_deltas(prepared)
    from train.fewshot import attribute_deltas

    true_ctx, mask, true_targets = attribute_deltas(ds, "test")
    assert torch.allclose(targets, true_targets, atol=1e-3)
    assert torch.allclose(ctx[mask], true_ctx[mask], atol=1e-3)
    ceiling = bayes_curve(prepared, ks=(0, 2, 12), n_points=4000)
    read = bayes_curve(prepared, ks=(0, 2, 12), n_points=4000, readout=True)
    # equal after answers; before any, pairs that tie exactly under the true attributes
    # (differences only in attributes of zero prior mean) may fall either side of the tie
    for group in ceiling:
        assert read[group][1:] == ceiling[group][1:]
        assert abs(read[group][0] - ceiling[group][0]) <= 0.03
    # the same attributes buried in noise: the read-out is worse and so is its posterior
    prepared = dataclasses.replace(prepared, embeddings=linear + 3.0 * torch.randn(linear.shape, generator=g))
    noisy = bayes_curve(prepared, ks=(0, 2, 12), n_points=4000, readout=True)
    assert noisy["heldout"][-1] < ceiling["heldout"][-1] - 0.03


def test_fit_readout_refuses_mismatched_rows() -> None:
    from train.reference import fit_readout

    with pytest.raises(ValueError, match="share N"):
        fit_readout(torch.zeros(3, 4), torch.zeros(2, 6))


def _attributes_of_texts(prepared) -> dict[int, list[float]]:
    """Every text id of the train and test splits -> its attribute vector."""
    ds = prepared.dataset
    attrs: dict[int, list[float]] = {}
    for name in ("train", "test"):
        split, rows = prepared.splits[name], getattr(ds, name)
        for i, row in enumerate(rows):
            attrs[int(split.chosen[i])] = row["attributes_chosen"]
            attrs[int(split.rejected[i])] = row["attributes_rejected"]
            for j, item in enumerate(row["context"]):
                pair = ds.survey[item["id"]]
                ab = (pair["attributes_a"], pair["attributes_b"])
                chosen, rejected = ab if item["chosen"] == "a" else ab[::-1]
                attrs[int(split.ctx_chosen[i, j])] = chosen
                attrs[int(split.ctx_rejected[i, j])] = rejected
    return attrs


def _linear_embeddings(prepared, attrs: dict[int, list[float]]) -> tuple[torch.Tensor, torch.Generator]:
    """Embeddings that are an exact linear image of each text's attributes."""
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(len(next(iter(attrs.values()))), prepared.embeddings.shape[1], generator=g)
    linear = torch.zeros_like(prepared.embeddings)
    for text, a in attrs.items():
        linear[text] = torch.tensor(a) @ mix
    return linear, g


def test_backbone_gap_is_nothing_on_a_linear_world_and_something_on_a_noisy_one(population) -> None:
    """bench/backbone_gap.py: with embeddings linear in the attributes the read-out scores
    exactly like the true attributes and reads every sign right; noise costs both."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from backbone_gap import gap
    from train.fit import prepare_data

    data, cache = population
    prepared = prepare_data(data, cache)
    linear, g = _linear_embeddings(prepared, _attributes_of_texts(prepared))
    exact = gap(dataclasses.replace(prepared, embeddings=linear))
    # held-out users weigh every attribute, so their margins never tie; a persona weighs one,
    # and a pair equal in it ties exactly on the true attributes but not on any read-out
    assert exact["readout"]["heldout"] == exact["true_attributes"]["heldout"]
    assert set(exact["readout_sign_accuracy"].values()) == {1.0}
    # learned from the answers alone, a linear read-out gets close to the true attributes
    assert exact["preference_readout"]["heldout"] >= exact["true_attributes"]["heldout"] - 0.05
    noisy = gap(dataclasses.replace(prepared, embeddings=linear + 20.0 * torch.randn(linear.shape, generator=g)))
    assert noisy["true_attributes"] == exact["true_attributes"]
    assert noisy["readout"]["heldout"] < exact["readout"]["heldout"]
    assert min(noisy["readout_sign_accuracy"].values()) < 1.0
    assert noisy["preference_readout"]["heldout"] < exact["preference_readout"]["heldout"] - 0.1
