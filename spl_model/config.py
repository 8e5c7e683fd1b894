"""ModelConfig: the one typed source of truth for every model's dimensions and loss weights."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = ["MODEL_KINDS", "KindInfo", "ModelConfig", "ModelKind"]

ModelKind = Literal["spl", "vpl", "ivpl", "btl", "oracle"]


@dataclass(frozen=True)
class KindInfo:
    """How a model kind is named and described wherever it is shown (CLI help, model card, plots).

    Fields:
        label: the display name (``"IAF-VPL"`` for ``ivpl``).
        about: one line on what the kind is made of.
    """

    label: str
    about: str


MODEL_KINDS: dict[str, KindInfo] = {
    "spl": KindInfo("SPL", "swap-guided posterior (Gaussian + P-IAF flow) and a FiLM reward decoder"),
    "vpl": KindInfo("VPL", "Gaussian posterior over a pair encoder, reward MLP on [x; z]"),
    "ivpl": KindInfo("IAF-VPL", "VPL plus an IAF flow (no swap split, no guide)"),
    "btl": KindInfo("BTL", "one unified Bradley-Terry reward for everyone (no latent)"),
    "oracle": KindInfo("Oracle", "the true user features in place of a latent (an upper bound)"),
}
"""Every ``ModelKind`` (in its order) with its label and one-line description: the one home."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; written verbatim into a run's ``config.json``.

    Each field's ``metadata["help"]`` is its one-line reason; the trainer's CLI flags and
    ``--help`` text are derived from it, so they cannot drift from this class.
    """

    kind: ModelKind = field(default="spl", metadata={"help": " | ".join(MODEL_KINDS)})
    embed_dim: int = field(default=384, metadata={"help": "D: width of the backbone embeddings"})
    latent_dim: int = field(
        default=1024,
        metadata={"help": "Z: user latent width (oracle: number of true user features)"},
    )
    hidden_dim: int = field(default=1024, metadata={"help": "H: hidden width of every MLP"})
    n_flows: int = field(
        default=2, metadata={"help": "K: flow layers for spl/ivpl (0 = Gaussian posterior)"}
    )
    beta: float = field(default=3e-6, metadata={"help": "weight of the KL term (paper: UF 3e-6)"})
    guide_weight: float = field(
        default=1e-5, metadata={"help": "lambda: weight of the swap-guided regularizer"}
    )
    eta: float = field(
        default=0.1, metadata={"help": "weight of the log-variance alignment in the guide loss"}
    )
    free_nats: float = field(
        default=1.0,
        metadata={"help": "per-sample KL below this passes no gradient (spl/ivpl, also with n_flows=0)"},
    )
    anneal_steps: int = field(
        default=10_000, metadata={"help": "T: half-period of the cyclical cosine KL annealer"}
    )
    au_threshold: float = field(
        default=0.005, metadata={"help": "variance above which a latent unit counts as active"}
    )
    guide: bool = field(default=True, metadata={"help": "spl ablation: use the guide loss"})
    split_context: bool = field(
        default=True,
        metadata={"help": "spl ablation: shift <- c_d, scale <- c_s (else both <- pooled u)"},
    )
    film: bool = field(
        default=True, metadata={"help": "spl ablation: FiLM decoder (else MLP on [x; z])"}
    )
    flow_seed: int = field(
        default=0, metadata={"help": "seed of the flows' autoregressive orderings"}
    )
    pooling: str = field(
        default="mean",
        metadata={"help": "set pooling of the context: mean (paper) or sum (evidence adds up "
                          "with each answer, as in a Bayesian update); also the flow contexts"},
    )
    latent_head: bool = field(
        default=False,
        metadata={"help": "add a linear personal term z . (U x) to the reward (a low-rank head "
                          "the latent steers directly; spl/vpl/ivpl)"},
    )
    evidence_mean: bool = field(
        default=False,
        metadata={"help": "add the pooled swap-reversible evidence, W (token(c, r) - "
                          "token(r, c)) / 2, to the posterior mean: a swapped answer moves it "
                          "the opposite way by construction (spl: c_d; vpl/ivpl: the "
                          "antisymmetrised pair token)"},
    )
    input_dropout: float = field(
        default=0.0,
        metadata={"help": "dropout on the response embeddings the reward reads, in training "
                          "only (0 = none, the paper): regularises the reading of responses "
                          "across prompts the decoder has not seen"},
    )
    linear_reward: bool = field(
        default=False,
        metadata={"help": "the decoder reads the response through one linear layer instead of "
                          "an MLP (FiLM stays): each user's reward is linear in the embedding, "
                          "as in the low-rank baseline, and cannot memorise training prompts"},
    )
    mean_bound: float = field(
        default=1.0,
        metadata={"help": "posterior mean clamped to [-b, b] (paper: 1; wider lets z reach "
                          "users far from the prior's centre)"},
    )
    logvar_min: float = field(
        default=-1.0,
        metadata={"help": "lowest posterior log-variance (paper: -1, i.e. std >= 0.61; lower "
                          "lets the posterior narrow as answers accumulate)"},
    )

    def __post_init__(self) -> None:
        if self.kind not in get_args(ModelKind):
            raise ValueError(
                f"kind={self.kind!r} is not a model kind; use one of {list(get_args(ModelKind))}."
            )
        for name in ("embed_dim", "hidden_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be a positive integer.")
        if self.kind != "btl" and self.latent_dim < 1:
            raise ValueError(f"latent_dim={self.latent_dim} must be >= 1 for kind={self.kind!r}.")
        if self.kind == "spl" and self.latent_dim % 2:
            raise ValueError(
                f"latent_dim={self.latent_dim} is odd, but SPL builds each pair token from two "
                "halves of width Z/2 (chosen, rejected); use an even latent_dim such as "
                f"{self.latent_dim + 1}."
            )
        if self.uses_flow and self.latent_dim < 2:
            raise ValueError("an autoregressive flow needs latent_dim >= 2; set n_flows=0.")
        if self.n_flows < 0:
            raise ValueError(f"n_flows={self.n_flows} must be >= 0.")
        if self.anneal_steps < 1:
            raise ValueError(f"anneal_steps={self.anneal_steps} must be >= 1.")
        if self.pooling not in ("mean", "sum"):
            raise ValueError(f"pooling={self.pooling!r}; use 'mean' or 'sum'.")
        if not 0 <= self.input_dropout < 1:
            raise ValueError(f"input_dropout={self.input_dropout} must be in [0, 1).")
        if self.mean_bound <= 0:
            raise ValueError(f"mean_bound={self.mean_bound} must be > 0.")
        if not -20 <= self.logvar_min <= 1:
            raise ValueError(f"logvar_min={self.logvar_min} must be in [-20, 1] (the upper clamp is 1).")
        concat = not (self.kind == "spl" and self.film)
        if self.linear_reward and concat and self.kind != "btl" and not (self.latent_head and self.has_latent):
            raise ValueError(
                f"linear_reward=True with kind={self.kind!r} and the concatenation decoder adds z "
                "as a constant per user, which cancels in every comparison: the model would be "
                "BTL. Set latent_head=True (spl/vpl/ivpl), or keep the MLP (linear_reward=False)."
            )
        for name in ("beta", "guide_weight", "eta", "free_nats", "au_threshold"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0.")

    @property
    def has_latent(self) -> bool:
        """Whether the model infers a latent from a context (spl, vpl, ivpl)."""
        return self.kind in ("spl", "vpl", "ivpl")

    @property
    def uses_flow(self) -> bool:
        """Whether the posterior is pushed through autoregressive flow layers."""
        return self.kind in ("spl", "ivpl") and self.n_flows > 0

    @property
    def uses_free_nats(self) -> bool:
        """Whether the KL term has free nats: spl and ivpl, whichever KL they compute (the flow's
        one-sample estimate, or the closed form when ``n_flows=0``). VPL's KL has none (SPL.md)."""
        return self.kind in ("spl", "ivpl")

    @property
    def z_dim(self) -> int:
        """Width of the ``z`` the decoder reads (0 for BTL)."""
        return 0 if self.kind == "btl" else self.latent_dim

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Rebuild from ``to_dict()``; unknown keys are an error, not silently dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown ModelConfig fields {unknown}; known fields are {sorted(known)}. "
                "Was this config written by a newer version of spl_model?"
            )
        return cls(**values)
