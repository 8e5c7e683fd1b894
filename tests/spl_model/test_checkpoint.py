"""Checkpoints: ``model.safetensors`` + ``config.json`` round-trip bit-exactly, and every broken
folder is refused with a message that says what is wrong (STYLE.md points 11 and 13)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from spl_model import CheckpointError, load_model, save_model

ALL_KINDS = ["spl", "vpl", "ivpl", "btl", "oracle"]


@pytest.fixture
def run_dir(tmp_path, make_model) -> Path:
    """A saved SPL run folder."""
    return save_model(make_model("spl"), tmp_path / "run", metadata={"dataset": "tiny"})


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def _write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config))


def _write_weights(folder: Path, state: dict[str, torch.Tensor]) -> None:
    """Write weights *and* their matching sha256, so only the content is wrong.

    The padding metadata keeps the file's first byte off 0x80, which the loader currently
    mistakes for a pickle (see ``test_a_header_length_starting_with_0x80_is_not_a_pickle``).
    """
    blob = next(
        blob
        for pad in range(4)
        if (blob := save_safetensors(state, metadata={"pad": "-" * 8 * pad}))[:1] != b"\x80"
    )
    (folder / "model.safetensors").write_bytes(blob)
    config = _config(folder)
    config["weights"]["sha256"] = hashlib.sha256(blob).hexdigest()
    _write_config(folder, config)


# -- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_save_then_load_reproduces_margins_bit_exactly(kind, tmp_path, make_model, make_batch):
    model = make_model(kind, seed=3)
    with torch.no_grad():  # make every weight differ from a fresh initialisation
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    batch = make_batch()
    expected = model.eval().margins(batch)

    loaded = load_model(save_model(model, tmp_path / kind))
    assert not loaded.training, "load_model returns the model in eval mode"
    assert loaded.cfg == model.cfg
    assert torch.equal(loaded.margins(batch), expected)


def test_the_flow_orderings_travel_with_the_weights(run_dir, make_model, make_batch):
    """A config edited to another flow_seed still loads the saved orderings (and masks)."""
    expected = make_model("spl").eval().margins(make_batch())
    config = _config(run_dir)
    config["model"]["flow_seed"] = 123
    _write_config(run_dir, config)
    assert torch.equal(load_model(run_dir).margins(make_batch()), expected)


def test_config_json_holds_format_weights_and_metadata(run_dir, make_model):
    config = _config(run_dir)
    assert config["format"] == "spl-model" and config["format_version"] == 1
    assert config["model"] == make_model("spl").cfg.to_dict()
    assert config["weights"]["file"] == "model.safetensors"
    assert config["weights"]["sha256"] == hashlib.sha256((run_dir / "model.safetensors").read_bytes()).hexdigest()
    assert config["dataset"] == "tiny"
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "model.safetensors"], "no temp files left"


def test_metadata_may_not_use_reserved_keys(tmp_path, make_model):
    with pytest.raises(ValueError, match="reserved"):
        save_model(make_model("vpl"), tmp_path / "run", metadata={"weights": "mine"})


# -- refusals -------------------------------------------------------------------------------


def test_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no run folder at"):
        load_model(tmp_path / "nowhere")


def test_refuses_a_folder_without_weights(run_dir):
    (run_dir / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing"):
        load_model(run_dir)


def test_refuses_a_folder_without_config(run_dir):
    (run_dir / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json is missing"):
        load_model(run_dir)


def test_refuses_a_torch_save_pickle_named_model_safetensors(run_dir, make_model):
    torch.save(make_model("spl").state_dict(), run_dir / "model.safetensors")
    with pytest.raises(CheckpointError, match="pickle / torch.save archive, not safetensors"):
        load_model(run_dir)


def test_refuses_a_pickle_next_to_the_config(run_dir, make_model):
    (run_dir / "model.safetensors").unlink()
    torch.save(make_model("spl").state_dict(), run_dir / "model.pt")
    with pytest.raises(CheckpointError, match=r"\['model.pt'\] but no model.safetensors: pickle"):
        load_model(run_dir)


def test_a_folder_with_only_model_pt_is_called_a_pickle(tmp_path, make_model):
    folder = tmp_path / "nanogpt-style"
    folder.mkdir()
    torch.save(make_model("spl").state_dict(), folder / "model.pt")
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(folder)


def test_a_header_length_starting_with_0x80_is_not_a_pickle(tmp_path, make_model):
    sizes = [(kind, h, z) for z in (4, 6, 8) for kind in ("spl", "ivpl") for h in range(8, 400, 3)]
    for kind, hidden_dim, latent_dim in sizes:  # the header's length varies with the shapes in it
        model = make_model(kind, hidden_dim=hidden_dim, latent_dim=latent_dim)
        folder = save_model(model, tmp_path / f"{kind}-{hidden_dim}-{latent_dim}")
        if (folder / "model.safetensors").read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("no header length with a low byte of 0x80 found")
    load_model(folder)


def test_refuses_weights_changed_after_saving(run_dir):
    blob = bytearray((run_dir / "model.safetensors").read_bytes())
    blob[-5] ^= 0x01  # one flipped bit inside the last tensor
    (run_dir / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="sha256 .* but config.json expects"):
        load_model(run_dir)


def test_refuses_a_config_whose_latent_dim_disagrees_with_the_weights(run_dir):
    config = _config(run_dir)
    config["model"]["latent_dim"] = 6  # the weights were saved with Z = 4
    _write_config(run_dir, config)  # the weights (and so their sha256) are untouched
    with pytest.raises(CheckpointError, match=r"latent_dim=6.*the config and weights disagree"):
        load_model(run_dir)


def test_refuses_weights_with_missing_tensors(run_dir):
    state = load_safetensors((run_dir / "model.safetensors").read_bytes())
    name = sorted(state)[0]
    del state[name]
    _write_weights(run_dir, state)
    with pytest.raises(CheckpointError, match="missing tensors"):
        load_model(run_dir)


def test_refuses_nan_weights(run_dir):
    state = load_safetensors((run_dir / "model.safetensors").read_bytes())
    name = next(n for n, t in sorted(state.items()) if t.is_floating_point() and t.numel())
    state[name].view(-1)[0] = float("nan")
    _write_weights(run_dir, state)  # a matching sha256: only the NaN is wrong
    with pytest.raises(CheckpointError, match=f"{name}.*NaN"):
        load_model(run_dir)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"format": "spl-model", ', "not valid JSON"),
        ('{"format": "other", "model": {}}', "not an spl-model config"),
        ('{"format": "spl-model", "format_version": 99, "model": {}}', "newer than this code"),
        ('{"format": "spl-model", "model": {"kind": "spl", "latent_dim": 5}}', "invalid model config"),
        ('{"format": "spl-model", "model": {"kind": "spl", "dropout": 0.1}}', "invalid model config"),
    ],
    ids=["invalid-json", "other-format", "newer-version", "odd-latent", "unknown-field"],
)
def test_refuses_a_bad_config_json(run_dir, text, message):
    (run_dir / "config.json").write_text(text)
    with pytest.raises(CheckpointError, match=message):
        load_model(run_dir)


@pytest.mark.parametrize("recorded", [True, False], ids=["layout-recorded", "written-before-the-record"])
@pytest.mark.parametrize(("saved_with", "loaded_with"), [(4, 1), (1, 4), (3, 2)])
def test_a_checkpoint_loads_whatever_block_count_new_models_get(
    tmp_path, monkeypatch, make_model, make_batch, saved_with: int, loaded_with: int, recorded: bool
):
    """Issue 12: the flows' masked layers are stored in row blocks whose count a speed rule
    (``made._blocks_for``) picked, so changing the rule broke loading every saved model. The
    checkpoint now records the layout (``weights.made_blocks``); older ones show it in the
    tensor names. Either way the model loads under any rule and scores bit-exactly the same."""
    import spl_model.made as made

    monkeypatch.setattr(made, "_blocks_for", lambda mask: saved_with)
    model = make_model("spl")
    batch = make_batch()
    expected = model.eval().margins(batch)
    save_model(model, tmp_path / "run")
    config = _config(tmp_path / "run")
    assert set(config["weights"]["made_blocks"].values()) == {saved_with}
    if not recorded:
        del config["weights"]["made_blocks"]
        _write_config(tmp_path / "run", config)
    monkeypatch.setattr(made, "_blocks_for", lambda mask: loaded_with)
    assert set(made.made_layout(make_model("spl")).values()) == {loaded_with}  # the new rule
    loaded = load_model(tmp_path / "run")
    assert set(made.made_layout(loaded).values()) == {saved_with}
    assert torch.equal(loaded.margins(batch), expected)


def test_a_made_layout_that_does_not_fit_the_model_is_refused(run_dir):
    config = _config(run_dir)
    layers = list(config["weights"]["made_blocks"])
    config["weights"]["made_blocks"] = {"flow.layers.9.nope": 4}
    _write_config(run_dir, config)
    with pytest.raises(CheckpointError, match="made_blocks layout does not fit the model"):
        load_model(run_dir)
    config["weights"]["made_blocks"] = {name: 2 for name in layers}
    _write_config(run_dir, config)  # the layers exist, but the tensors were stored in 1 block
    with pytest.raises(CheckpointError, match="does not match its config"):
        load_model(run_dir)


def test_a_plain_pickle_named_model_safetensors_is_called_a_pickle(run_dir):
    """A protocol-2 pickle starts with 0x80 and has no safetensors header: refused by name,
    not with a confusing safetensors error."""
    import pickle

    (run_dir / "model.safetensors").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=2))
    with pytest.raises(CheckpointError, match="pickle / torch.save archive"):
        load_model(run_dir)


def test_save_makes_missing_parents_and_saves_again_over_a_run(tmp_path, make_model, make_batch):
    model = make_model("vpl")
    folder = save_model(model, tmp_path / "new" / "nested" / "run")
    again = save_model(model, folder)  # the folder exists: replaced, not refused
    assert again == folder and sorted(p.name for p in folder.iterdir()) == ["config.json",
                                                                            "model.safetensors"]
    torch.testing.assert_close(load_model(folder).margins(make_batch()),
                               model.eval().margins(make_batch()))


def test_load_run_files_reads_model_config_and_report(run_dir):
    from spl_model.checkpoint import load_run_files

    files = load_run_files(run_dir)
    assert files.report is None  # no report.json yet
    assert files.config == _config(run_dir) and not files.model.training
    (run_dir / "report.json").write_text('{"accuracy": 0.75}')
    assert load_run_files(run_dir).report == {"accuracy": 0.75}
    (run_dir / "report.json").write_text("[1, 2]")  # JSON, but not an object
    assert load_run_files(run_dir).report is None
    (run_dir / "report.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="report.json is not valid JSON"):
        load_run_files(run_dir)
