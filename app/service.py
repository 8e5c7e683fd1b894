"""Inference for the demo: context pairs -> each model's posterior, latent point, confidence and
rankings. Pure (no Gradio, no database), shared read-only by every visitor.

- The models (SPL, VPL, BTL run folders, see ``app.runs``) are loaded once; every call runs
  under ``torch.inference_mode()`` and never mutates them, so Gradio's worker threads share
  them safely. Per-visitor state is the caller's (a ``gr.State`` or the store), never here.
- Texts are embedded as ``spl_model.render.render(prompt, response)``. The demo pack's texts
  come precomputed from ``assets/demo_embeddings.safetensors`` (keyed by the rendered text's
  sha256); typed texts are embedded on demand by the runs' backbone, loaded lazily on first
  use (or by ``warm_up``), and kept in a bounded LRU cache.
- **Latent point**: the posterior ``z`` projected with the run's ``latent_map.json`` PCA
  (``(z - mean) @ components.T``), with the spread (sd along x and y) of 32 posterior samples
  projected the same way. **Type shares**: the share of those samples whose nearest training
  type centroid (in the 2-D map) is each type.
- **Confidence** (what the UI shows): the probability that the model's first-ranked response
  in a ranking set of the pack is the visitor's favourite, averaged over the sets
  (``spl_model.calibration``: posterior stability, reward gap and number of answers, mapped by
  the run's ``calibration.json``, fitted on simulated training users of the population world;
  ``python -m train calibrate`` measures its calibration on held-out users). Only real
  answers enter it, so a skip or a tie never changes it. Models without a calibrator show none.
- **Stopping signal** (``stability``, not shown as a number): the chance that each set's top
  response stays first whatever the visitor answers next, over the pack pairs still to ask
  (``spl_model.active.lookahead_stability``); at ``STOP_AT`` (0.9), after at least one real
  answer, the UI suggests finishing.
- **Next pair** (sessions in ``active`` mode, ``select_pair``): the pack pair with the highest
  BALD information gain under 32 posterior samples of the SPL model (``QUERY_METHOD``,
  ``spl_model.active``; the look-ahead score is the alternative, measured as no better on the
  demo model in ``docs/results/active.md``). Seeded per session and answer count, and every
  posterior sample is drawn under one lock, so the pair shown and the pair ``label`` expects
  are the same even with concurrent visitors.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from app.demo_pack import EMBEDDINGS_FILE, PACK_FILE, text_key
from app.records import REPEAT_SUFFIX
from app.runs import RunInfo, find_run_folders, load_run
from spl_model.active import STOP_AT, lookahead_stability, select_query
from spl_model.backbones import backbone_name
from spl_model.render import render

__all__ = ["Embedder", "Personalisation", "Service", "ServiceError", "N_SAMPLES", "REPEAT_SUFFIX",
           "STOP_AT"]

N_SAMPLES = 32
QUERY_METHOD = "bald"  # select_query's score (docs/results/active.md compares it with the look-ahead)
UNTYPED = ("heldout", "None", None)  # latent-map groups that are not a type to resemble
ASSETS = Path(__file__).resolve().parent.parent / "assets"

Context = Sequence[tuple[str, str, str]]  # (prompt, chosen, rejected) per A/B answer


class Embedder(Protocol):
    """What the service needs of a backbone: ``dim`` and ``embed(texts) -> [N, dim]``."""

    dim: int

    def embed(self, texts: list[str]) -> torch.Tensor: ...


class ServiceError(RuntimeError):
    """The service cannot start or serve as configured (the message says how to fix it)."""


@dataclass(frozen=True)
class Personalisation:
    """One visitor's latents: per latent model, ``z`` ``[Z]`` and ``samples`` ``[n, Z]``."""

    n_context: int
    z: dict[str, torch.Tensor]
    samples: dict[str, torch.Tensor]
    context: tuple[torch.Tensor, torch.Tensor] | None = None  # chosen, rejected [C, D]


class _LRU:
    """A small thread-safe LRU of text key -> fp32 vector."""

    def __init__(self, size: int) -> None:
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: str) -> torch.Tensor | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: str, value: torch.Tensor) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def _backbone_name(run: RunInfo) -> str:
    """The backbone a run was trained on (``spl_model.backbones.backbone_name``)."""
    return backbone_name(run.backbone)


def _load_backbone(run: RunInfo) -> Embedder:
    """Load the run's backbone as its config.json describes it (name, kind, quantize, ...)."""
    from spl_model.backbones import BackboneSpec, load_backbone

    spec = {**run.backbone, "name": _backbone_name(run)}
    fields = set(BackboneSpec.__dataclass_fields__)
    if "kind" in spec:
        return load_backbone(BackboneSpec(**{k: v for k, v in spec.items() if k in fields}))
    quantize = spec.get("quantize") or "none"
    return load_backbone(spec["name"], quantize=None if quantize == "none" else quantize)


class Service:
    """Posteriors, latent points, confidence and rankings for the demo; see the module doc."""

    def __init__(self, runs: dict[str, RunInfo], pack: dict[str, Any],
                 pack_vectors: dict[str, torch.Tensor] | None = None,
                 embedder: Embedder | None = None,
                 embedder_loader: Callable[[], Embedder] | None = None,
                 cache_size: int = 2048, oracle_report: dict[str, Any] | None = None) -> None:
        if not runs:
            raise ServiceError("No models to serve; give at least one run folder.")
        dims = {run.model.cfg.embed_dim for run in runs.values()}
        backbones = {_backbone_name(run) for run in runs.values()}
        if len(dims) > 1 or len(backbones) > 1:
            raise ServiceError(
                f"The runs use different backbones {sorted(backbones)} or embedding widths "
                f"{sorted(dims)}; serve runs trained on one backbone together.")
        self.runs, self.pack, self.oracle_report = runs, pack, oracle_report
        self.embed_dim = dims.pop()
        self.backbone_name = backbones.pop()
        self._pack_vectors = pack_vectors or {}
        self._embedder, self._loader = embedder, embedder_loader
        self._embed_lock, self._load_lock = threading.Lock(), threading.Lock()
        self._rng_lock = threading.Lock()  # posterior sampling draws from torch's global RNG
        self._cache = _LRU(cache_size)
        self.items = self._session_items()
        self._probe: tuple[torch.Tensor, list[slice]] | None = None

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_folders(cls, run_folders: Sequence[Path] | None = None,
                     assets: Path = ASSETS, embedder: Embedder | None = None,
                     cache_size: int = 2048) -> Service:
        """Load the runs (default: ``SPL_RUNS`` or ``assets/runs``) and the demo pack."""
        folders = list(run_folders) if run_folders else find_run_folders(None)
        runs: dict[str, RunInfo] = {}
        for folder in folders:
            run = load_run(Path(folder))
            name = run.name if run.name not in runs else Path(folder).name
            run.name = name
            runs[name] = run
        pack_path = assets / PACK_FILE
        if not pack_path.is_file():
            raise ServiceError(f"The demo pack {PACK_FILE} is missing from {assets}; build it "
                               "with `python -m app.demo_pack --data DATASET --out assets/`.")
        pack = json.loads(pack_path.read_text(encoding="utf-8"))
        first = next(iter(runs.values()))
        vectors = _read_pack_vectors(assets / EMBEDDINGS_FILE, _backbone_name(first),
                                     first.model.cfg.embed_dim)
        oracle = None
        oracle_path = assets / "runs" / "oracle" / "report.json"
        if oracle_path.is_file():
            oracle = json.loads(oracle_path.read_text(encoding="utf-8"))
        return cls(runs, pack, vectors, embedder=embedder,
                   embedder_loader=lambda: _load_backbone(first), cache_size=cache_size,
                   oracle_report=oracle)

    def warm_up(self) -> None:
        """Load the backbone and compute the probe set now rather than on first use."""
        self._get_embedder()
        self._probe_vectors()

    # -- the session's pairs ---------------------------------------------------------------

    def _session_items(self) -> list[dict[str, Any]]:
        """The pairs a session shows, in order: the pack's pairs, then the attention repeat."""
        pairs = [dict(p) for p in self.pack["pairs"]]
        check = self.pack.get("attention_check")
        original = next((p for p in pairs if p["pair_id"] == check), None)
        if original is not None:
            pairs.append({**original, "pair_id": check + REPEAT_SUFFIX})
        return pairs

    def item(self, pair_id: str) -> dict[str, Any] | None:
        return next((p for p in self.items if p["pair_id"] == pair_id), None)

    @property
    def ranking_sets(self) -> list[dict[str, Any]]:
        return list(self.pack.get("ranking_sets") or [])

    @property
    def user_types(self) -> list[str]:
        return list((self.pack.get("dataset") or {}).get("user_types") or [])

    # -- embeddings ------------------------------------------------------------------------

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            with self._load_lock:
                if self._embedder is None:
                    if self._loader is None:
                        raise ServiceError("No backbone is available to embed new texts.")
                    self._embedder = self._loader()
        return self._embedder

    @property
    def backbone_loaded(self) -> bool:
        return self._embedder is not None

    def vectors(self, prompt: str, responses: Sequence[str]) -> torch.Tensor:
        """``[N, D]`` fp32 embeddings of ``render(prompt, r)``: pack, then cache, then backbone."""
        texts = [render(prompt, r) for r in responses]
        keys = [text_key(t) for t in texts]
        out: list[torch.Tensor | None] = []
        for key in keys:
            vec = self._pack_vectors.get(key)
            out.append(vec if vec is not None else self._cache.get(key))
        missing = [i for i, v in enumerate(out) if v is None]
        if missing:
            embedder = self._get_embedder()
            with self._embed_lock:  # fast tokenizers are not safe to share across threads
                new = embedder.embed([texts[i] for i in missing]).float().cpu()  # [M, D]
            if new.shape[-1] != self.embed_dim:
                raise ServiceError(f"The backbone gives {new.shape[-1]}-dim embeddings but the "
                                   f"models expect {self.embed_dim}.")
            for row, i in enumerate(missing):
                vec = new[row].clone()
                self._cache.put(keys[i], vec)
                out[i] = vec
        return torch.stack(out)  # type: ignore[arg-type]

    # -- posterior ----------------------------------------------------------------------------

    @torch.inference_mode()
    def personalise(self, context: Context, n_samples: int = N_SAMPLES) -> Personalisation:
        """Each latent model's ``z`` and ``n_samples`` posterior samples from the A/B answers
        in ``context`` (``(prompt, chosen, rejected)``); the prior N(0, I) with no answers."""
        z: dict[str, torch.Tensor] = {}
        samples: dict[str, torch.Tensor] = {}
        if context:
            chosen = torch.cat([self.vectors(p, [c]) for p, c, _ in context])  # [C, D]
            rejected = torch.cat([self.vectors(p, [r]) for p, _, r in context])  # [C, D]
            mask = torch.ones(1, len(context), dtype=torch.bool)  # [1, C]
        else:  # no answers yet: the model's own prior latent (RewardModel, empty context)
            chosen = rejected = torch.zeros(0, self.embed_dim)
            mask = torch.zeros(1, 0, dtype=torch.bool)
        for name, run in self.runs.items():
            if not run.has_latent:
                continue
            post = run.model.posterior(chosen[None], rejected[None], mask)
            z[name] = post.z[0].float()  # [Z]
            with self._rng_lock:
                torch.manual_seed(len(context))  # the cloud is a function of the answers
                samples[name] = run.model.sample_z(chosen[None], rejected[None], mask,
                                                   n_samples)[0]
        return Personalisation(len(context), z, samples,
                               (chosen, rejected) if context else None)

    @torch.inference_mode()
    def select_pair(self, context: Context, items: Sequence[dict[str, Any]],
                    seed: int) -> int | None:
        """Index into ``items`` of the pair to ask next (highest BALD score under
        ``N_SAMPLES`` posterior samples given ``context``), or None when there is no latent
        model or no item. Deterministic for a given ``seed``."""
        name = "spl" if "spl" in self.runs and self.runs["spl"].has_latent else next(
            (n for n, r in self.runs.items() if r.has_latent), None)
        if name is None or not items:
            return None
        a = torch.cat([self.vectors(i["prompt"], [i["a"]]) for i in items])  # [P, D]
        b = torch.cat([self.vectors(i["prompt"], [i["b"]]) for i in items])  # [P, D]
        if context:
            chosen = torch.cat([self.vectors(p, [c]) for p, c, _ in context])[None]  # [1, C, D]
            rejected = torch.cat([self.vectors(p, [r]) for p, _, r in context])[None]
        else:
            chosen = rejected = torch.zeros(1, 0, self.embed_dim)
        mask = torch.ones(chosen.shape[:2], dtype=torch.bool)  # [1, C]
        with self._rng_lock:  # BALD draws posterior samples from torch's global RNG
            choice = select_query(self.runs[name].model, (chosen, rejected, mask), a, b,
                                  n_samples=N_SAMPLES, seed=seed, method=QUERY_METHOD)
        return int(choice.best[0])

    def latent(self, person: Personalisation) -> dict[str, Any]:
        """Per latent model with a latent map: the visitor's 2-D point, sample cloud, spread
        and type shares (see the module docstring)."""
        out: dict[str, Any] = {}
        for name, run in self.runs.items():
            if run.latent_map is None or name not in person.z:
                continue
            mean = torch.tensor(run.latent_map["mean"], dtype=torch.float32)  # [Z]
            comps = torch.tensor(run.latent_map["components"], dtype=torch.float32)  # [2, Z]
            point = (person.z[name] - mean) @ comps.T  # [2]
            cloud = (person.samples[name] - mean) @ comps.T  # [n, 2]
            # no shares before the first real answer: the prior says nothing about the visitor
            shares = _type_shares(cloud, run.latent_map.get("points") or []) \
                if person.n_context else {}
            out[name] = {"x": float(point[0]), "y": float(point[1]),
                         "sd": [float(v) for v in cloud.std(0)],
                         "samples": [[float(a), float(b)] for a, b in cloud.tolist()],
                         "type_shares": shares}
        return out

    def _probe_vectors(self) -> tuple[torch.Tensor, list[slice]]:
        if self._probe is None:
            blocks, slices, start = [], [], 0
            for item in self.ranking_sets:
                vec = self.vectors(item["prompt"], [c["response"] for c in item["candidates"]])
                blocks.append(vec)
                slices.append(slice(start, start + len(vec)))
                start += len(vec)
            self._probe = (torch.cat(blocks) if blocks else torch.zeros(0, self.embed_dim),
                           slices)
        return self._probe

    def _context(self, person: Personalisation) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if person.context is None:
            return (torch.zeros(1, 0, self.embed_dim),) * 2 + (torch.zeros(1, 0, dtype=torch.bool),)
        chosen, rejected = person.context
        return chosen[None], rejected[None], torch.ones(1, len(chosen), dtype=torch.bool)

    @torch.inference_mode()
    def confidence(self, person: Personalisation) -> dict[str, float]:
        """Per latent model with a calibrator: the probability that its top pick in a ranking
        set is the visitor's favourite, averaged over the pack's sets (module docstring).

        A function of the real answers alone (a seeded posterior cloud), so a skip or a tie,
        which never enters the context, cannot move it. Models without ``calibration.json``
        get no number: an uncalibrated share would not mean what the label says.
        """
        from spl_model.calibration import confidence_features

        probe, slices = self._probe_vectors()
        out: dict[str, float] = {}
        if not slices:
            return out
        context = self._context(person)
        for name, run in self.runs.items():
            if name not in person.z or run.calibrator is None:
                continue
            probs = []
            for part in slices:
                with self._rng_lock:
                    stability, gap, k, _ = confidence_features(run.model, context, probe[part][None], seed=0)
                probs.append(run.calibrator(stability, gap, k))
            out[name] = round(float(torch.cat(probs).mean()), 4)
        return out

    @torch.inference_mode()
    def stability(self, person: Personalisation,
                  to_ask: Sequence[dict[str, Any]] | None = None) -> dict[str, float]:
        """Per latent model: the chance that each probe set's top response stays on top
        whatever the answer to the most unsettling pair of ``to_ask`` (the pack pairs not
        answered yet; default: every pack pair), averaged over the sets: the stopping signal
        (module docstring), not shown as a number."""
        probe, slices = self._probe_vectors()
        out: dict[str, float] = {}
        if not slices:
            return out
        pool = [i for i in (self.pack["pairs"] if to_ask is None else to_ask)
                if not i["pair_id"].endswith(REPEAT_SUFFIX)]
        a = torch.cat([self.vectors(i["prompt"], [i["a"]]) for i in pool]) if pool else \
            torch.zeros(0, self.embed_dim)  # [P, D]
        b = torch.cat([self.vectors(i["prompt"], [i["b"]]) for i in pool]) if pool else a
        context = self._context(person)
        for name in person.z:
            stay = lookahead_stability(self.runs[name].model, context, probe, a, b, sets=slices,
                                       point=person.z[name][None])  # [1, n_sets]
            out[name] = float(stay.mean())  # the mean over the sets
        return out

    # -- ranking ------------------------------------------------------------------------------

    @torch.inference_mode()
    def rank(self, prompt: str, candidates: Sequence[str],
             person: Personalisation) -> dict[str, list[dict[str, Any]]]:
        """Each model's ranking of ``candidates``: ``[{response, score}]``, best first."""
        x = self.vectors(prompt, candidates)[None]  # [1, N, D]
        out: dict[str, list[dict[str, Any]]] = {}
        for name, run in self.runs.items():
            z = person.z.get(name)
            z = torch.zeros(1, run.model.cfg.z_dim) if z is None else z[None]  # [1, Z]
            scores = run.model.reward(x, z)[0].tolist()  # [N]
            order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
            out[name] = [{"response": candidates[i], "score": round(float(scores[i]), 4)}
                         for i in order]
        return out


def _type_shares(cloud: torch.Tensor, points: list[dict[str, Any]]) -> dict[str, float]:
    """Share of the 2-D samples ``cloud`` ``[n, 2]`` nearest to each type's centroid."""
    groups: dict[str, list[list[float]]] = {}
    for p in points:
        if p.get("user_type") in UNTYPED:  # a population's held-out users are no "type"
            continue
        groups.setdefault(str(p.get("user_type")), []).append([p["x"], p["y"]])
    if not groups or not len(cloud):
        return {}
    names = sorted(groups)
    centroids = torch.tensor([torch.tensor(groups[n]).mean(0).tolist() for n in names])  # [T, 2]
    nearest = torch.cdist(cloud, centroids).argmin(1)  # [n]
    return {n: float((nearest == i).float().mean()) for i, n in enumerate(names)}


def _read_pack_vectors(path: Path, backbone: str, dim: int) -> dict[str, torch.Tensor]:
    """The shipped pack embeddings, or {} when they are missing or from another backbone."""
    if not path.is_file():
        return {}
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
        try:
            identity = json.loads(meta.get("backbone", "{}"))
        except json.JSONDecodeError:
            identity = {}
        if identity.get("backbone") != Path(backbone).name or int(meta.get("dim", -1)) != dim:
            return {}  # embedded by another backbone: embed the pack texts on demand instead
        return {key: handle.get_tensor(key).float() for key in handle.keys()}

