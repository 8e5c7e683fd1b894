"""Evaluation metrics (SPL.md section 6) on margins small enough to count by hand."""

from __future__ import annotations

import math

import pytest
import torch

from spl_model import (
    COLLAPSE_SHARE,
    accuracy,
    active_units,
    latent_collapsed,
    per_group_accuracy,
    swap_flip_rate,
)


def test_accuracy_counts_ties_as_errors():
    assert accuracy(torch.tensor([2.0, 0.0, -1.0, 0.5])) == 0.625  # the 0.0 tie is a coin flip


def test_accuracy_with_a_mask_counts_real_pairs_only():
    margins = torch.tensor([[1.0, -1.0, 3.0], [-2.0, 5.0, 5.0]])
    mask = torch.tensor([[True, True, False], [True, True, False]])
    assert accuracy(margins, mask) == 0.5
    assert math.isnan(accuracy(margins, torch.zeros_like(mask))), "no real pair: undefined"
    assert math.isnan(accuracy(torch.zeros(0)))


def test_active_units_count_share_and_threshold():
    g = torch.Generator().manual_seed(0)
    vectors = torch.stack(
        [
            torch.zeros(200),  # constant: inactive
            0.01 * torch.randn(200, generator=g),  # variance 1e-4: inactive at 0.005
            torch.randn(200, generator=g),  # variance ~1: active
            torch.tensor([-0.25, 0.25]).repeat(100),  # variance exactly 0.0625 (population)
        ],
        dim=1,
    )  # [N, Z] = [200, 4]
    au = active_units(vectors, threshold=0.005)
    assert (au.count, au.share, au.threshold) == (2, 0.5, 0.005)  # the last two
    torch.testing.assert_close(au.variances, vectors.var(dim=0, unbiased=False))
    assert active_units(vectors, threshold=0.0625).count == 1, "strictly above the threshold"
    assert active_units(vectors).threshold == 0.005, "the SPL release's default"


def test_a_constant_latent_has_no_active_units():
    au = active_units(torch.full((50, 8), 0.3))
    assert au.count == 0 and au.share == 0.0


def test_active_units_edge_cases():
    empty = active_units(torch.zeros(10, 0))  # BTL: no latent
    assert (empty.count, empty.share, empty.variances.shape) == (0, 0.0, (0,))
    with pytest.raises(ValueError, match=r"\[N, Z\], got shape \(10,\)"):
        active_units(torch.zeros(10))


def test_per_group_accuracy_sorted_by_group():
    margins = torch.tensor([1.0, -1.0, 0.0, 2.0, 3.0])
    groups = ["helpful", "honest", "honest", "helpful", "honest"]
    result = per_group_accuracy(margins, groups)
    assert result == {"helpful": 1.0, "honest": pytest.approx(1 / 3)}
    assert list(result) == ["helpful", "honest"]
    with pytest.raises(ValueError, match="N group labels"):
        per_group_accuracy(margins, groups[:2])


def test_swap_flip_rate():
    margins = torch.tensor([1.0, 1.0, -1.0, -1.0])
    swapped = torch.tensor([-1.0, 2.0, 1.0, -3.0])
    assert swap_flip_rate(margins, swapped) == 0.5
    assert swap_flip_rate(margins, -margins) == 1.0
    assert swap_flip_rate(torch.tensor([0.0]), torch.tensor([-1.0])) == 0.0, "a tie reads as 'not chosen'"
    assert swap_flip_rate(torch.tensor([1.0]), torch.tensor([0.0])) == 1.0, "on either side"
    with pytest.raises(ValueError, match="same shape"):
        swap_flip_rate(margins, swapped[:2])


def test_latent_collapsed_reads_the_share_of_z_only() -> None:
    assert COLLAPSE_SHARE == 0.1
    assert latent_collapsed({"active_units_z_share": 0.0}) is True
    assert latent_collapsed({"active_units_z_share": 0.0625}) is True  # 1 of 16 units: collapsed
    assert latent_collapsed({"active_units_z_share": 0.1}) is False
    # the paper's vector (m_K) reading 0 does not make a used z collapsed
    assert latent_collapsed({"active_units_share": 0.0, "active_units_z_share": 0.375}) is False
    assert latent_collapsed({"active_units_share": 0.0}) is None  # no z measure: unknown
    assert latent_collapsed({"active_units_z_share": None}) is None  # latent-free model


def test_expected_calibration_error_by_hand_in_ten_equal_bins() -> None:
    from spl_model.metrics import expected_calibration_error as ece

    probs = torch.tensor([0.05, 0.15, 0.15, 0.85, 0.95, 1.0])
    outcome = torch.tensor([0, 0, 1, 1, 1, 0])
    # bins 0: {0.05 -> 0}, 1: {0.15, 0.15 -> 0.5}, 8: {0.85 -> 1}, 9 (1.0 included): {0.95, 1.0 -> 0.5}
    expected = (1 / 6) * 0.05 + (2 / 6) * 0.35 + (1 / 6) * 0.15 + (2 / 6) * abs(0.5 - 0.975)
    assert ece(probs, outcome) == round(expected, 6) == 0.308333  # six digits kept
    # 10 bins by default: 0.09 and 0.095 share the first bin (with 11 they would not)
    assert ece(torch.tensor([0.09, 0.095]), torch.tensor([1, 0])) == pytest.approx(0.4075)
    assert ece(torch.tensor([0.09, 0.095]), torch.tensor([1, 0]), n_bins=11) == \
        pytest.approx(0.5025)
    assert ece(torch.full((4,), 0.5), torch.tensor([0, 1, 0, 1])) == 0.0  # perfectly calibrated
    assert math.isnan(ece(torch.zeros(0), torch.zeros(0)))


@pytest.mark.parametrize(("probs", "outcomes"), [
    (torch.full((3,), 0.5), torch.ones(2)),  # lengths differ
    (torch.full((2, 2), 0.5), torch.ones(2, 2)),  # not 1-D
])
def test_expected_calibration_error_refuses_mismatched_or_2d_inputs(probs, outcomes) -> None:
    from spl_model.metrics import expected_calibration_error as ece

    with pytest.raises(ValueError, match="1-D of one length"):
        ece(probs, outcomes)
