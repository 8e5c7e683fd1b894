"""Test-time refinement of z (spl_model/refine.py): the MAP objective, what moves, what not."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from spl_fixtures import Z, random_context, tiny_model
from spl_model.refine import RefineSettings, answers_log_likelihood, refine_latent


def _objective(model, c, r, mask, z, prior_var):
    return answers_log_likelihood(model, c, r, mask, z) - (z ** 2).sum(1) / (2 * prior_var)


def test_answers_log_likelihood_by_hand() -> None:
    model = tiny_model("spl").eval()
    c, r, mask = random_context([3, 1], seed=2)
    z = torch.randn(2, Z)
    with torch.no_grad():
        got = answers_log_likelihood(model, c, r, mask, z)
        for b in range(2):
            margins = model.reward(c[b:b + 1], z[b:b + 1]) - model.reward(r[b:b + 1], z[b:b + 1])
            expected = F.logsigmoid(margins[0][mask[b]]).sum()
            torch.testing.assert_close(got[b], expected)


@pytest.mark.parametrize("kind", ["spl", "vpl"])
def test_refinement_raises_each_answered_users_objective_and_touches_nothing_else(kind) -> None:
    model = tiny_model(kind, seed=1).train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    c, r, mask = random_context([4, 2, 0], seed=3)
    with torch.no_grad():
        z0 = model.eval().posterior(c, r, mask).z
    model.train()
    settings = RefineSettings(steps=60, lr=0.05, prior_var=10.0)
    z = refine_latent(model, c, r, mask, z0, settings)
    with torch.no_grad():
        gained = (_objective(model, c, r, mask, z, 10.0) - _objective(model, c, r, mask, z0, 10.0))
    assert bool((gained[:2] > 1e-4).all()), gained
    assert torch.equal(z[2], z0[2])  # no answers: the encoder's z stands
    assert not z.requires_grad and model.training  # the mode is restored
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n
        assert p.grad is None, n


def test_refinement_reaches_the_map_of_a_linear_reward() -> None:
    """With a reward linear in z (no FiLM, linear read-out, latent head) the objective is a
    concave logistic posterior: Adam's answer agrees with L-BFGS run to convergence."""
    model = tiny_model("spl", seed=4, film=False, linear_reward=True, latent_head=True).eval()
    c, r, mask = random_context([5], seed=5)
    z0 = torch.zeros(1, Z)
    refined = refine_latent(model, c, r, mask, z0, RefineSettings(steps=1500, lr=0.02, prior_var=2.0))
    z = torch.zeros(1, Z, requires_grad=True)
    opt = torch.optim.LBFGS([z], max_iter=500, tolerance_grad=1e-10, tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        loss = -_objective(model, c, r, mask, z, 2.0).sum()
        loss.backward()
        return loss

    opt.step(closure)
    torch.testing.assert_close(refined, z.detach(), atol=2e-3, rtol=0)
    assert float(refined.abs().max()) > 1e-2  # the answers moved it away from the start


def test_no_steps_or_no_answers_return_the_start() -> None:
    model = tiny_model("vpl").eval()
    c, r, _ = random_context([2, 2])
    z0 = torch.randn(2, Z)
    none = torch.zeros(2, 2, dtype=torch.bool)
    assert torch.equal(refine_latent(model, c, r, none, z0), z0)
    assert torch.equal(refine_latent(model, c, r, ~none, z0, RefineSettings(steps=0)), z0)
    # returned as given, bit for bit, even in a precision the model does not compute in
    z64 = torch.randn(2, Z, dtype=torch.float64)
    for mask, settings in ((none, RefineSettings(steps=5)), (~none, RefineSettings(steps=0))):
        got = refine_latent(model, c, r, mask, z64, settings)
        assert got.dtype == torch.float64 and torch.equal(got, z64)


@pytest.mark.parametrize("values, message", [
    ({"steps": -1}, "steps=-1 must be >= 0"), ({"lr": 0.0}, "must be > 0"),
    ({"prior_var": -1.0}, "must be > 0"),
])
def test_bad_settings_are_refused(values, message) -> None:
    with pytest.raises(ValueError, match=message):
        RefineSettings(**values)


def test_settings_are_frozen_and_the_defaults_are_the_measured_ones() -> None:
    """``make personalize``'s ``+refine`` rows run with ``RefineSettings()`` (train/personalize.py):
    the defaults are part of that result, and a settings object cannot change under a run."""
    settings = RefineSettings()
    assert (settings.steps, settings.lr, settings.prior_var) == (100, 0.05, 100.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.steps = 3  # type: ignore[misc]


@pytest.mark.parametrize("values", [{"steps": 0}, {"lr": 0.5}, {"prior_var": 0.5},
                                    {"lr": 1e-6, "prior_var": 1e-6}])
def test_small_positive_settings_are_accepted(values) -> None:
    RefineSettings(**values)


def test_a_zero_prior_variance_is_refused() -> None:
    with pytest.raises(ValueError, match="prior_var=0.0 must be > 0"):
        RefineSettings(prior_var=0.0)


def test_one_step_moves_each_answered_user_by_about_lr() -> None:
    """Adam's first step moves every coordinate with a nonzero gradient by ``lr`` (its
    bias-corrected step is ``lr * sign(grad)``): one step is already a refinement."""
    model = tiny_model("spl", seed=6).eval()
    c, r, mask = random_context([3, 0], seed=7)
    z0 = torch.randn(2, Z, generator=torch.Generator().manual_seed(8))
    z = refine_latent(model, c, r, mask, z0, RefineSettings(steps=1, lr=0.1))
    torch.testing.assert_close((z[0] - z0[0]).abs(), torch.full((Z,), 0.1), atol=1e-4, rtol=0)
    assert torch.equal(z[1], z0[1])


def test_refinement_runs_the_model_in_eval_mode() -> None:
    """A model in training mode with input dropout: refinement reads it without dropout (the
    same answer as in eval mode, every time) and leaves it in training mode."""
    model = tiny_model("spl", seed=9, input_dropout=0.5)
    c, r, mask = random_context([4, 2], seed=10)
    z0 = torch.zeros(2, Z)
    settings = RefineSettings(steps=15, lr=0.05, prior_var=10.0)
    expected = refine_latent(model.eval(), c, r, mask, z0, settings)
    got = refine_latent(model.train(), c, r, mask, z0, settings)
    assert model.training
    torch.testing.assert_close(got, expected, atol=0, rtol=0)
