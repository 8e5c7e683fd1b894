"""The training noise survives evaluation and resumes, on the CPU and on CUDA; resume saves are
atomic (issue 12).

CUDA is exercised twice: for real where a GPU is present (skipped otherwise), and everywhere
through ``FakeCuda``, which stands in for torch.cuda's generator functions (one small state
tensor per device) so the logic that picks, seeds and restores generators runs on any CPU.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

import pytest
import torch

import spl_model.atomic as atomic
import train.resume as resume
from fit_helpers import fill_cache, make_dataset
from spl_model import ModelConfig, build_model
from train.evaluate import _mean_kl
from train.fit import prepare_data
from train.resume import load_progress, save_progress
from train.rng import fixed_noise

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class FakeCuda:
    """torch.cuda's generator API over fake per-device states; ``draw()`` is a sample."""

    def __init__(self, n_devices: int = 2) -> None:
        self.states = {i: torch.tensor([10 * (i + 1), 0], dtype=torch.uint8) for i in range(n_devices)}
        self.current = 0

    def _index(self, device: int | str | torch.device) -> int:
        if isinstance(device, int):
            return device
        index = torch.device(device).index
        return self.current if index is None else index

    def get_rng_state(self, device: int | str | torch.device = "cuda") -> torch.Tensor:
        return self.states[self._index(device)].clone()

    def set_rng_state(self, state: torch.Tensor, device: int | str | torch.device = "cuda") -> None:
        self.states[self._index(device)] = state.clone()

    def manual_seed(self, seed: int) -> None:
        self.states[self.current] = torch.tensor([seed % 256, 0], dtype=torch.uint8)

    def manual_seed_all(self, seed: int) -> None:  # what torch.manual_seed calls
        for index in self.states:
            self.states[index] = torch.tensor([seed % 256, 0], dtype=torch.uint8)

    @contextlib.contextmanager
    def device(self, device: int | str | torch.device) -> Iterator[None]:
        previous, self.current = self.current, self._index(device)
        try:
            yield
        finally:
            self.current = previous

    def draw(self) -> tuple[int, int]:
        """A 'sample' from the current device: the state, which then advances."""
        state = self.states[self.current]
        self.states[self.current] = torch.tensor([state[0], state[1] + 1], dtype=torch.uint8)
        return int(state[0]), int(state[1])


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> FakeCuda:
    fake = FakeCuda()
    for name in ("get_rng_state", "set_rng_state", "manual_seed", "manual_seed_all", "device"):
        monkeypatch.setattr(torch.cuda, name, getattr(fake, name))
    return fake


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("rng")
    data_dir = make_dataset(root / "data", train_rows=16, test_rows=8, unseen_users=0)
    fill_cache(data_dir, root / "cache")
    return prepare_data(data_dir, root / "cache")


def _spl(n_flows: int = 2) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(kind="spl", embed_dim=384, latent_dim=8, hidden_dim=16, n_flows=n_flows))


def _states(fake: FakeCuda) -> dict[int, list[int]]:
    return {i: s.tolist() for i, s in fake.states.items()}


def test_mean_kl_leaves_every_generator_as_it_found_it(prepared, fake_cuda: FakeCuda) -> None:
    """It seeded every device (torch.manual_seed) but restored only the CPU generator: on CUDA
    each periodic evaluation reset the training noise."""
    model = _spl()
    fake_cuda.draw()  # training noise drawn on the (fake) CUDA device since its last seeding
    cpu_before, cuda_before = torch.get_rng_state(), _states(fake_cuda)
    first = _mean_kl(model, prepared.splits["test"], prepared.embeddings, batch_size=4)
    assert torch.equal(torch.get_rng_state(), cpu_before)
    assert _states(fake_cuda) == cuda_before
    assert _mean_kl(model, prepared.splits["test"], prepared.embeddings, batch_size=4) == first


def test_fixed_noise_seeds_and_restores_exactly_the_device_it_names(fake_cuda: FakeCuda) -> None:
    fake_cuda.draw()
    before = _states(fake_cuda)
    cpu_before = torch.get_rng_state()
    with fixed_noise(3, torch.device("cuda", 1)):
        assert fake_cuda.states[1].tolist() == [3, 0] and fake_cuda.states[0].tolist() == before[0]
        with fake_cuda.device(1):
            fake_cuda.draw()
        inside = torch.rand(2)
    assert _states(fake_cuda) == before and torch.equal(torch.get_rng_state(), cpu_before)
    with fixed_noise(3, torch.device("cpu")):
        assert torch.equal(torch.rand(2), inside)  # the CPU generator was seeded too
    assert _states(fake_cuda) == before
    with pytest.raises(ValueError, match="neither cpu nor cuda"):
        with fixed_noise(0, torch.device("meta")):
            pass


def _tiny_run() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


SETTINGS = {"fit": {"seed": 1}}


def test_resume_saves_and_restores_the_cuda_generator(tmp_path: Path, fake_cuda: FakeCuda) -> None:
    """resume saved only the CPU generator, so a resumed CUDA run sampled other noise."""
    model, optimizer = _tiny_run()
    cuda = torch.device("cuda", 1)
    with fake_cuda.device(1):
        fake_cuda.draw()
        save_progress(tmp_path, SETTINGS, model, optimizer, 1, [], 0.0, device=cuda)
        expected_cuda, expected_cpu = [fake_cuda.draw() for _ in range(3)], torch.rand(3)
        device_0 = fake_cuda.states[0].clone()
        load_progress(tmp_path, SETTINGS, model, optimizer, device=cuda)
        assert [fake_cuda.draw() for _ in range(3)] == expected_cuda
        assert torch.equal(torch.rand(3), expected_cpu)
        assert torch.equal(fake_cuda.states[0], device_0)  # another device's noise is its own


@needs_cuda
def test_mean_kl_on_cuda_keeps_the_cuda_training_noise(prepared) -> None:
    model = _spl().cuda()
    emb = prepared.embeddings.cuda()
    torch.cuda.manual_seed(5)
    expected = torch.randn(4, device="cuda")
    torch.cuda.manual_seed(5)
    _mean_kl(model, prepared.splits["test"], emb, batch_size=4)
    assert torch.equal(torch.randn(4, device="cuda"), expected)


@needs_cuda
def test_a_resumed_cuda_run_continues_the_same_noise(tmp_path: Path) -> None:
    model, optimizer = _tiny_run()
    model.cuda()
    save_progress(tmp_path, SETTINGS, model, optimizer, 1, [], 0.0)
    expected = torch.randn(4, device="cuda")
    load_progress(tmp_path, SETTINGS, model, optimizer)
    assert torch.equal(torch.randn(4, device="cuda"), expected)


@pytest.mark.parametrize("crash_at", ["state", "commit", "cleanup"])
def test_a_crash_while_saving_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            crash_at: str) -> None:
    """resume removed the old state, then renamed the new one in: a crash between lost both."""
    model, optimizer = _tiny_run()
    save_progress(tmp_path, SETTINGS, model, optimizer, 1, [{"step": 1}], 1.0)
    first = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    second = {k: v.clone() for k, v in model.state_dict().items()}

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash")

    with monkeypatch.context() as patch:
        if crash_at == "state":  # half a state file written, then the process dies
            def half_written(tensors: dict, path: str) -> None:
                Path(path).write_bytes(b"\x00" * 10)
                crash()
            patch.setattr(resume, "save_file", half_written)
        elif crash_at == "commit":  # the one rename (the old code removed the old state first)
            real_replace = os.replace

            def replace(source: object, target: object) -> None:
                if Path(target).name != "progress.json":
                    return real_replace(source, target)  # the new state file arrives whole
                crash()
            patch.setattr(atomic.os, "replace", replace)
        else:  # committed, but the old state file is not yet deleted
            patch.setattr(Path, "unlink", crash)
        with pytest.raises(OSError, match="simulated crash"):
            save_progress(tmp_path, SETTINGS, model, optimizer, 2, [{"step": 1}, {"step": 2}], 2.0)

    fresh, fresh_optimizer = _tiny_run()
    with torch.no_grad():
        fresh.weight.zero_()
    step, history, seconds = load_progress(tmp_path, SETTINGS, fresh, fresh_optimizer)
    expected = second if crash_at == "cleanup" else first
    assert step == (2 if crash_at == "cleanup" else 1) and len(history) == step and seconds == step
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, expected[key]), key

    save_progress(tmp_path, SETTINGS, model, optimizer, 3, [], 3.0)  # the next save tidies up
    assert load_progress(tmp_path, SETTINGS, fresh, fresh_optimizer)[0] == 3
    names = sorted(p.name for p in (tmp_path / "resume").iterdir())
    assert len(names) == 2 and names[0] == "progress.json" and names[1].startswith("state-3-")


def test_a_resume_folder_written_before_the_state_file_carried_its_step_still_loads(tmp_path: Path) -> None:
    model, optimizer = _tiny_run()
    save_progress(tmp_path, SETTINGS, model, optimizer, 4, [], 4.0)
    folder = tmp_path / "resume"
    progress = json.loads((folder / "progress.json").read_text())
    (folder / progress.pop("state_file")).rename(folder / "state.safetensors")
    (folder / "progress.json").write_text(json.dumps(progress))
    assert load_progress(tmp_path, SETTINGS, model, optimizer)[0] == 4
