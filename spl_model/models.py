"""RewardModel: SPL, VPL, IAF-VPL, BTL and the oracle, assembled from shared parts by config.

Data flow for a batch of B users::

    context pairs [B, C, D] x2 --tokenizer--> tokens [B, C, Z] --SetEncoder--> mean, logvar [B, Z]
    z0 = mean + exp(logvar / 2) * eps            (eps ~ N(0, I) in training, 0 in eval mode)
    z  = flow(z0; c_shift, c_scale)              (spl / ivpl; identity otherwise)
    reward(x [B, N, D], z [B, Z]) -> [B, N]

The public API (the trainer, the app and outside users call exactly this): :func:`build_model`,
:meth:`RewardModel.posterior`, :meth:`RewardModel.sample_z`, :meth:`RewardModel.reward`,
:meth:`RewardModel.margins` and :meth:`RewardModel.loss`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spl_model.config import ModelConfig
from spl_model.decoders import ConcatDecoder, FiLMDecoder
from spl_model.encoders import PairTokenizer, ResponseTokenizer, SetEncoder
from spl_model.errors import ShapeError
from spl_model.flows import AffineFlow
from spl_model.losses import (
    anneal_weight,
    bradley_terry_loss,
    free_nats_kl,
    gaussian_kl,
    gaussian_log_prob,
    guide_loss,
    monte_carlo_kl,
)

__all__ = ["Posterior", "PreferenceBatch", "RewardModel", "build_model"]


@dataclass(frozen=True)
class Posterior:
    """A user's inferred latent.

    Attributes:
        mean, logvar: ``[B, Z]`` base Gaussian ``q(z0 | D_h)``, clamped to ``[-mean_bound,
            mean_bound]`` and ``[logvar_min, 1]`` (0 and 0, the prior, for an empty context).
        z: ``[B, Z]`` the latent the decoder reads: a sample in training, deterministic
            (``eps = 0`` pushed through the flow) in eval mode. ``[B, 0]`` for BTL.
        log_q: ``[B]`` ``log q_K(z)`` of that ``z``.
        au_vector: ``[B, Z]`` the vector active units are measured on: the last flow layer's
            shift ``m_K`` for flow models, the mean otherwise.
        mean_swap, logvar_swap: ``[B, Z]`` the same encoder on the swapped context (no grad;
            SPL only, when asked for), else ``None``.
    """

    mean: Tensor
    logvar: Tensor
    z: Tensor
    log_q: Tensor
    au_vector: Tensor
    mean_swap: Tensor | None = None
    logvar_swap: Tensor | None = None


class PairTokens(NamedTuple):
    """Per-pair tokens, each ``[B, C, F]``; a pair's tokens never depend on the other pairs.

    SPL: ``first`` = g_c, ``second`` = g_r (F = Z/2). VPL: ``first`` = the ``[e_c; e_r]`` token
    (F = Z) and ``second`` = the swapped pair's token when the evidence path needs it, else None.
    """

    first: Tensor
    second: Tensor | None = None

    def map(self, fn: Callable[[Tensor], Tensor]) -> PairTokens:
        """``fn`` applied to each token tensor (``None`` stays ``None``)."""
        return PairTokens(fn(self.first), None if self.second is None else fn(self.second))


class BasePosterior(NamedTuple):
    """The base Gaussian ``[B, Z]``, the flow's two contexts (what conditions the shift and
    what conditions the scale) and, when asked for, the swapped context's statistics."""

    mean: Tensor
    logvar: Tensor
    c_shift: Tensor
    c_scale: Tensor
    mean_swap: Tensor | None
    logvar_swap: Tensor | None


@dataclass(frozen=True)
class PreferenceBatch:
    """B users, each with a padded context and N target pairs (chosen first, then rejected).

    Attributes:
        ctx_chosen, ctx_rejected: ``[B, C, D]`` embeddings of the context pairs.
        ctx_mask: ``[B, C]`` bool, True where a context pair is real.
        chosen, rejected: ``[B, N, D]`` embeddings of the target pairs to score.
        pair_mask: ``[B, N]`` bool, True where a target pair is real (None: all are).
        user_features: ``[B, F]`` true user features, read by the oracle only.
    """

    ctx_chosen: Tensor
    ctx_rejected: Tensor
    ctx_mask: Tensor
    chosen: Tensor
    rejected: Tensor
    pair_mask: Tensor | None = None
    user_features: Tensor | None = None

    def to(self, device: torch.device | str) -> PreferenceBatch:
        moved = {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
            for f in fields(self)
        }
        return PreferenceBatch(**moved)


def _check_shape(name: str, tensor: Tensor, expected: tuple[int | str, ...]) -> dict[str, int]:
    """Check ``tensor`` against a shape like ``("B", "C", 384)``; returns the letters' sizes."""
    if not isinstance(tensor, Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}.")
    spec = "[" + ", ".join(map(str, expected)) + "]"
    if tensor.ndim != len(expected):
        raise ShapeError(f"{name} must have shape {spec}, got {list(tensor.shape)}.")
    sizes: dict[str, int] = {}
    for size, want in zip(tensor.shape, expected):
        if isinstance(want, int) and size != want:
            raise ShapeError(f"{name} must have shape {spec}, got {list(tensor.shape)}.")
        if isinstance(want, str):
            sizes[want] = size
    return sizes


def _same(letter: str, *shapes: dict[str, int]) -> None:
    values = {s[letter] for s in shapes if letter in s}
    if len(values) > 1:
        raise ShapeError(f"inconsistent {letter} across inputs: got sizes {sorted(values)}.")


def _masked_sum(values: Tensor, mask: Tensor) -> Tensor:
    """Sum of ``values [B, C, F]`` over the real pairs of ``mask [B, C]`` -> ``[B, F]``."""
    return torch.einsum("bc,bcf->bf", mask.to(values.dtype), values)


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values [B, C, F]`` over the real pairs of ``mask [B, C]`` -> ``[B, F]``."""
    weights = mask.to(values.dtype) / mask.sum(dim=1, keepdim=True)  # [B, C]
    return torch.einsum("bc,bcf->bf", weights, values)


class RewardModel(nn.Module):
    """A personalized (or unified) reward model; build it with :func:`build_model`.

    Example:
        >>> model = build_model(ModelConfig(kind="vpl", embed_dim=8, latent_dim=4, hidden_dim=16))
        >>> model
        RewardModel(kind=vpl, D=8, Z=4, H=16, flows=0, params=1,197)
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        D, Z, H = cfg.embed_dim, cfg.latent_dim, cfg.hidden_dim
        self.tokenizer: nn.Module | None = None
        self.set_encoder: SetEncoder | None = None
        self.flow: AffineFlow | None = None
        if cfg.kind == "spl":
            self.tokenizer = ResponseTokenizer(D, H, Z)
        elif cfg.kind in ("vpl", "ivpl"):
            self.tokenizer = PairTokenizer(D, H, Z)
        if cfg.has_latent:
            self.set_encoder = SetEncoder(Z, cfg.mean_bound, cfg.logvar_min, cfg.pooling)
        # optional evidence path to the posterior mean (ModelConfig.evidence_mean)
        self.evidence = (nn.Linear(Z // 2 if cfg.kind == "spl" else Z, Z, bias=False)
                         if cfg.evidence_mean and cfg.has_latent else None)
        if cfg.uses_flow:
            split = cfg.kind == "spl" and cfg.split_context
            ctx_dim = Z // 2 if split else Z
            self.flow = AffineFlow(Z, ctx_dim, ctx_dim, cfg.n_flows, seed=cfg.flow_seed)
        if cfg.kind == "spl" and cfg.film:
            self.decoder: nn.Module = FiLMDecoder(D, cfg.z_dim, H, cfg.linear_reward)
        else:
            self.decoder = ConcatDecoder(D, cfg.z_dim, H, cfg.linear_reward)
        # optional personal term z . (U x): a low-rank head the latent steers directly
        self.latent_head = (nn.Linear(D, cfg.z_dim, bias=False)
                            if cfg.latent_head and cfg.has_latent else None)

    def __repr__(self) -> str:
        c = self.cfg
        n = sum(p.numel() for p in self.parameters())
        return (
            f"RewardModel(kind={c.kind}, D={c.embed_dim}, Z={c.z_dim}, H={c.hidden_dim}, "
            f"flows={c.n_flows if c.uses_flow else 0}, params={n:,})"
        )

    # -- inference -------------------------------------------------------------------------

    def _check_context(self, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor) -> None:
        D = self.cfg.embed_dim
        a = _check_shape("ctx_chosen", ctx_chosen, ("B", "C", D))
        b = _check_shape("ctx_rejected", ctx_rejected, ("B", "C", D))
        m = _check_shape("mask", mask, ("B", "C"))
        _same("B", a, b, m)
        _same("C", a, b, m)
        if mask.dtype != torch.bool:
            raise ShapeError(f"mask must be a bool tensor (True = real pair), got {mask.dtype}.")

    def _tokens(self, chosen: Tensor, rejected: Tensor, mask: Tensor) -> PairTokens:
        """Per-pair tokens (:class:`PairTokens`): SPL's ``(g_c, g_r)``, VPL's ``[e_c; e_r]``."""
        assert self.tokenizer is not None
        if self.cfg.kind == "spl":
            return PairTokens(*self.tokenizer(chosen, rejected, mask))
        if self.evidence is not None:  # VPL's evidence needs the swapped pair's token too
            return PairTokens(self.tokenizer(chosen, rejected, mask),
                              self.tokenizer(rejected, chosen, mask))
        return PairTokens(self.tokenizer(chosen, rejected, mask))

    def _base(
        self, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor, with_swap: bool
    ) -> BasePosterior:
        """Base Gaussian, the flow's two contexts and (optionally) the swapped statistics."""
        return self._base_from_tokens(self._tokens(ctx_chosen, ctx_rejected, mask), mask, with_swap)

    def _base_from_tokens(self, tokens: PairTokens, mask: Tensor, with_swap: bool) -> BasePosterior:
        """The base Gaussian and the flow's contexts; a user with no real pair gets the prior.

        An empty context (a visitor before their first answer, or a training row with k = 0)
        has nothing to attend over: its base posterior is the prior ``N(0, I)`` and both flow
        contexts are 0, so ``z`` is the flow's image of the prior, the same for every such user.
        """
        has = mask.any(dim=1)  # [B]
        if bool(has.all()):
            return self._base_with_context(tokens, mask, with_swap)
        if mask.shape[1] == 0:  # no column to attend over at all: one all-zero dummy pair
            tokens = tokens.map(lambda t: t.new_zeros(t.shape[0], 1, t.shape[2]))
            mask = mask.new_zeros(mask.shape[0], 1)
        safe = mask.clone()
        safe[~has, 0] = True  # a finite stand-in (padding tokens are 0); overwritten below
        out = self._base_with_context(tokens, safe, with_swap)
        keep = has[:, None]
        return BasePosterior(*(None if t is None else torch.where(keep, t, torch.zeros_like(t))
                               for t in out))

    def _base_with_context(self, tokens: PairTokens, mask: Tensor, with_swap: bool) -> BasePosterior:
        assert self.set_encoder is not None
        mean_swap = logvar_swap = None
        pool = _masked_mean if self.cfg.pooling == "mean" else _masked_sum
        if self.cfg.kind == "spl":
            g_c, g_r = tokens  # [B, C, Z/2] each
            c_d = pool((g_c - g_r) / 2, mask)  # [B, Z/2] swap-reversible
            c_s = pool((g_c + g_r) / 2, mask)  # [B, Z/2] swap-invariant
            ev = None if self.evidence is None else self.evidence(c_d)  # [B, Z]
            mean, logvar, pooled = self.set_encoder(torch.cat([g_c, g_r], -1), mask, ev)
            if with_swap:
                with torch.no_grad():  # the swapped token: the same halves, exchanged
                    swapped = self.set_encoder(torch.cat([g_r, g_c], -1), mask,
                                               None if ev is None else -ev)
                mean_swap, logvar_swap = swapped.mean.float(), swapped.logvar.float()
            if self.cfg.split_context:
                return BasePosterior(mean.float(), logvar.float(), c_d, c_s, mean_swap, logvar_swap)
        else:
            ev = (None if self.evidence is None
                  else self.evidence(pool((tokens.first - tokens.second) / 2, mask)))
            mean, logvar, pooled = self.set_encoder(tokens.first, mask, ev)
        return BasePosterior(mean.float(), logvar.float(), pooled, pooled, mean_swap, logvar_swap)

    def _push(
        self, z0: Tensor, mean: Tensor, logvar: Tensor, c_shift: Tensor, c_scale: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """z0 ``[B, *, Z]`` -> (z, log_q, au_vector) through the flow, if any."""
        log_q = gaussian_log_prob(z0, mean, logvar)  # [B, *]
        if self.flow is None:
            return z0, log_q, mean.expand_as(z0)
        out = self.flow(z0, c_shift, c_scale)
        return out.z, log_q - out.log_det, out.shift

    def posterior(
        self, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor, *, with_swap: bool = False
    ) -> Posterior:
        """Infer each user's latent from their context pairs.

        Args:
            ctx_chosen, ctx_rejected: ``[B, C, D]``; padding rows may hold anything.
            mask: ``[B, C]`` bool, True = real pair; a user with none gets the prior
                (see :meth:`_base_from_tokens`).
            with_swap: also return the swapped context's mean and log-variance (SPL).
        Returns:
            :class:`Posterior` with ``z`` ``[B, Z]`` (``[B, 0]`` for BTL).
        """
        self._check_context(ctx_chosen, ctx_rejected, mask)
        B = ctx_chosen.shape[0]
        if self.cfg.kind == "oracle":
            raise ValueError(
                "the oracle has no encoder: it reads the true user features; pass them as "
                "`z` to reward(), or as `user_features` in a PreferenceBatch."
            )
        if self.cfg.kind == "btl":
            empty = ctx_chosen.new_zeros(B, 0, dtype=torch.float32)
            return Posterior(empty, empty, empty, empty.new_zeros(B), empty)
        mean, logvar, c_shift, c_scale, mean_swap, logvar_swap = self._base(
            ctx_chosen, ctx_rejected, mask, with_swap
        )
        eps = torch.randn_like(mean) if self.training else torch.zeros_like(mean)
        z0 = mean + torch.exp(logvar / 2) * eps  # [B, Z]
        z, log_q, au_vector = self._push(z0, mean, logvar, c_shift, c_scale)
        return Posterior(mean, logvar, z, log_q, au_vector, mean_swap, logvar_swap)

    def lookahead_z(self, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor,
                    new_chosen: Tensor, new_rejected: Tensor) -> Tensor:
        """Point latents after one more answer, for M alternatives at once: ``[B, M, Z]``.

        Row ``[b, m]`` is the eval-mode ``posterior(...).z`` (``eps = 0`` through the flow) of
        user b's context plus the pair ``(new_chosen[b, m], new_rejected[b, m])``, whatever
        the mode. Each response is tokenised once, not once per alternative, which is what
        makes scoring every answer to every pool pair cheap (``spl_model.active``).

        Args:
            ctx_chosen, ctx_rejected: ``[B, C, D]``, ``C`` may be 0; mask ``[B, C]`` bool
                (rows may be all False: the new pair is then the whole context).
            new_chosen, new_rejected: ``[B, M, D]``.
        """
        D = self.cfg.embed_dim
        a = _check_shape("ctx_chosen", ctx_chosen, ("B", "C", D))
        b = _check_shape("ctx_rejected", ctx_rejected, ("B", "C", D))
        m = _check_shape("mask", mask, ("B", "C"))
        c = _check_shape("new_chosen", new_chosen, ("B", "M", D))
        d = _check_shape("new_rejected", new_rejected, ("B", "M", D))
        _same("B", a, b, m, c, d)
        _same("C", a, b, m)
        _same("M", c, d)
        if mask.dtype != torch.bool:
            raise ShapeError(f"mask must be a bool tensor (True = real pair), got {mask.dtype}.")
        if self.cfg.kind == "oracle":
            raise ValueError("the oracle has no encoder: it reads the true user features.")
        B, C, M = a["B"], a["C"], c["M"]
        if not self.cfg.has_latent:
            return ctx_chosen.new_zeros(B, M, 0, dtype=torch.float32)
        old = self._tokens(ctx_chosen, ctx_rejected, mask)  # each [B, C, F]
        new = self._tokens(new_chosen, new_rejected, mask.new_ones(B, M))  # each [B, M, F]

        def join(o: Tensor, n: Tensor) -> Tensor:  # [B*M, C+1, F]: the context, then one new pair
            return (torch.cat([o[:, None].expand(B, M, C, o.shape[-1]), n[:, :, None]], dim=2)
                    .reshape(B * M, C + 1, o.shape[-1]))

        second = None if old.second is None else join(old.second, new.second)
        tokens = PairTokens(join(old.first, new.first), second)
        full = torch.cat([mask[:, None].expand(B, M, C), mask.new_ones(B, M, 1)], dim=2)
        base = self._base_from_tokens(tokens, full.reshape(B * M, C + 1), False)
        z = self._push(base.mean, base.mean, base.logvar, base.c_shift, base.c_scale)[0]  # eps = 0
        return z.view(B, M, -1)

    def sample_z(self, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor, n: int) -> Tensor:
        """``n`` posterior samples per user through the flow: ``[B, n, Z]`` (``[B, n, 0]`` BTL).

        Always random, whatever the mode; the base encoder runs once per user.
        """
        self._check_context(ctx_chosen, ctx_rejected, mask)
        B = ctx_chosen.shape[0]
        if not self.cfg.has_latent:
            return ctx_chosen.new_zeros(B, n, self.cfg.z_dim)
        base = self._base(ctx_chosen, ctx_rejected, mask, False)
        mean, logvar = base.mean[:, None].expand(B, n, -1), base.logvar[:, None].expand(B, n, -1)
        z0 = mean + torch.exp(logvar / 2) * torch.randn_like(mean)  # [B, n, Z]
        c_shift = base.c_shift[:, None].expand(B, n, -1)  # [B, n, C_shift]
        c_scale = base.c_scale[:, None].expand(B, n, -1)
        return self._push(z0, mean, logvar, c_shift, c_scale)[0]

    def reward(self, x: Tensor, z: Tensor) -> Tensor:
        """Rewards of N embedded responses per user: x ``[B, N, D]``, z ``[B, Z]`` -> ``[B, N]``."""
        a = _check_shape("x", x, ("B", "N", self.cfg.embed_dim))
        b = _check_shape("z", z, ("B", self.cfg.z_dim))
        _same("B", a, b)
        z = z.to(x.dtype) if z.dtype != x.dtype else z
        if self.training and self.cfg.input_dropout > 0:  # (p = 0 draws no random numbers)
            x = F.dropout(x, self.cfg.input_dropout)
        out = self.decoder(x, z)  # [B, N]
        if self.latent_head is not None:
            out = out + torch.einsum("bnz,bz->bn", self.latent_head(x), z)
        return out.float()

    def reward_grid(self, x: Tensor, z: Tensor) -> Tensor:
        """Rewards of the same N responses under S latents: x ``[N, D]``, z ``[S, Z]`` -> ``[S, N]``.

        Equal to ``reward(x.expand(S, N, D), z)``, without the S copies: the response half of
        the decoder's first layer runs once (what the active-query code scores pools with).
        """
        _check_shape("x", x, ("N", self.cfg.embed_dim))
        _check_shape("z", z, ("S", self.cfg.z_dim))
        z = z.to(x.dtype) if z.dtype != x.dtype else z
        out = self.decoder(x[None], z)  # [S, N] (a Z = 0 decoder returns [1, N])
        if self.latent_head is not None:
            out = out + z @ self.latent_head(x).T  # + [S, N]
        out = out.float()
        return out.expand(z.shape[0], -1)  # [S, N] (a Z = 0 decoder returns [1, N])

    def _latent_for(self, batch: PreferenceBatch, with_swap: bool) -> tuple[Tensor, Posterior | None]:
        if self.cfg.kind == "oracle":
            if batch.user_features is None:
                raise ValueError("the oracle needs batch.user_features [B, F]; none were given.")
            return batch.user_features.float(), None
        post = self.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask, with_swap=with_swap)
        return post.z, post

    def _pair_margins(self, batch: PreferenceBatch, z: Tensor) -> Tensor:
        """``r(chosen) - r(rejected)`` ``[B, N]``, both sides in one decoder call."""
        N = batch.chosen.shape[1]
        if batch.rejected.shape != batch.chosen.shape:
            raise ShapeError(
                f"chosen {list(batch.chosen.shape)} and rejected {list(batch.rejected.shape)} "
                "must have the same shape [B, N, D]."
            )
        rewards = self.reward(torch.cat([batch.chosen, batch.rejected], dim=1), z)  # [B, 2N]
        return rewards[:, :N] - rewards[:, N:]

    def margins(self, batch: PreferenceBatch) -> Tensor:
        """Preference margins ``r(x, y_c, z) - r(x, y_r, z)`` ``[B, N]`` with the posterior's
        ``z`` (deterministic in eval mode). Positive = the model agrees with the label."""
        z, _ = self._latent_for(batch, with_swap=False)
        return self._pair_margins(batch, z)

    # -- training --------------------------------------------------------------------------

    def forward(self, batch: PreferenceBatch, step: int | None = None) -> dict[str, Tensor]:
        """Same as :meth:`loss`: lets wrappers such as DDP see the training computation."""
        return self.loss(batch, step)

    def loss(self, batch: PreferenceBatch, step: int | None = None) -> dict[str, Tensor]:
        """Named loss terms and their weighted ``total`` for one batch.

        ``total = bt + beta * a(step) * kl + guide_weight * guide`` where ``a`` is the cyclical
        annealer; ``step`` is the number of *training* steps taken so far (``None`` = weight 1,
        the plain -ELBO, for evaluation). Terms a kind does not use are 0.
        """
        use_guide = self.cfg.kind == "spl" and self.cfg.guide and self.cfg.guide_weight > 0
        z, post = self._latent_for(batch, with_swap=use_guide)
        margins = self._pair_margins(batch, z)
        mask = batch.pair_mask
        bt = bradley_terry_loss(margins, torch.zeros_like(margins), mask)
        zero = bt.new_zeros(())
        kl = guide = zero
        if post is not None and self.cfg.has_latent:
            if self.cfg.uses_flow:
                kl = monte_carlo_kl(post.log_q, post.z)  # [B]
            else:
                kl = gaussian_kl(post.mean, post.logvar)  # [B]
            if self.cfg.uses_free_nats:  # spl/ivpl, with or without a flow
                kl = free_nats_kl(kl, self.cfg.free_nats)
            kl = kl.mean()
        if use_guide and post is not None:
            assert post.mean_swap is not None and post.logvar_swap is not None
            has = batch.ctx_mask.any(dim=1)  # an empty context has no swap to be guided by
            if bool(has.any()):
                guide = guide_loss(post.mean[has], post.logvar[has], post.mean_swap[has],
                                   post.logvar_swap[has], self.cfg.eta)
        kl_weight = 1.0 if step is None else anneal_weight(step, self.cfg.anneal_steps)
        total = bt + self.cfg.beta * kl_weight * kl + self.cfg.guide_weight * guide
        return {
            "bt": bt,
            "kl": kl,
            "guide": guide,
            "kl_weight": bt.new_tensor(kl_weight),
            "total": total,
        }


def build_model(cfg: ModelConfig) -> RewardModel:
    """Build the model a config describes (weights freshly initialised; seed torch first)."""
    return RewardModel(cfg)
