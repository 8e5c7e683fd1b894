"""Turn a dataset folder's rows into index tensors, and index tensors into model batches.

Every text is embedded once (the cache); a split is then a handful of integer tensors that
point into one ``[U, D]`` embedding matrix, so building a batch is a few gathers, not a JSON
walk. One row = one user (with its own context) and one target pair (N = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import torch
from torch import Tensor

from spl_model import PreferenceBatch
from spl_model.render import render
from train.data.schema import Dataset

__all__ = ["EncodedSplit", "encode_split", "user_features", "split_texts", "with_context_targets"]


@dataclass(frozen=True)
class EncodedSplit:
    """One split as tensors. ``R`` rows, contexts padded to ``C`` pairs.

    Attributes:
        chosen, rejected: ``[R]`` text ids of the target pair (into the embedding matrix).
        ctx_chosen, ctx_rejected: ``[R, C]`` text ids of the context pairs (0 at padding).
        ctx_mask: ``[R, C]`` bool, True where a context pair is real.
        features: ``[R, F]`` true user features (the oracle's input).
        controversial: ``[R]`` bool.  users, user_types: one label per row.
    """

    name: str
    chosen: Tensor
    rejected: Tensor
    ctx_chosen: Tensor
    ctx_rejected: Tensor
    ctx_mask: Tensor
    features: Tensor
    controversial: Tensor
    users: list[str]
    user_types: list[str]

    def __len__(self) -> int:
        return self.chosen.shape[0]

    @property
    def context_sizes(self) -> Tensor:
        return self.ctx_mask.sum(dim=1)  # [R]

    def select(self, rows: Tensor) -> EncodedSplit:
        """The split restricted to ``rows`` (a 1-D index tensor), in that order."""
        index = rows.tolist()
        return EncodedSplit(
            name=self.name, chosen=self.chosen[rows], rejected=self.rejected[rows],
            ctx_chosen=self.ctx_chosen[rows], ctx_rejected=self.ctx_rejected[rows],
            ctx_mask=self.ctx_mask[rows], features=self.features[rows],
            controversial=self.controversial[rows],
            users=[self.users[i] for i in index], user_types=[self.user_types[i] for i in index],
        )

    def batch(
        self,
        rows: Tensor,
        embeddings: Tensor,
        max_context: int | None = None,
        swap: bool = False,
        target_embeddings: Tensor | None = None,
        target_rows: Tensor | None = None,
        target_pairs: tuple[Tensor, Tensor] | None = None,
    ) -> PreferenceBatch:
        """Gather rows into a :class:`PreferenceBatch` from ``embeddings`` ``[U, D]``.

        ``max_context`` keeps only each user's first k context pairs (the accuracy-vs-context
        curve); ``swap`` exchanges chosen and rejected in every context pair (swap-flip rate);
        ``target_embeddings`` (same indexing) replaces the targets' vectors, for a LoRA-tuned
        backbone whose contexts stay the cached ("fixed") ones. ``target_rows`` ``[B, N]``
        scores N target pairs per context, taken from those rows (:meth:`same_user_rows`);
        ``target_pairs`` ``([B, N], [B, N])`` gives the targets' chosen and rejected text ids
        directly (:meth:`same_user_targets`).
        """
        targets = embeddings if target_embeddings is None else target_embeddings
        ctx_c, ctx_r, mask = self.ctx_chosen[rows], self.ctx_rejected[rows], self.ctx_mask[rows]
        if max_context is not None:
            ctx_c, ctx_r, mask = ctx_c[:, :max_context], ctx_r[:, :max_context], mask[:, :max_context]
        if swap:
            ctx_c, ctx_r = ctx_r, ctx_c
        if target_pairs is None:
            picks = rows[:, None] if target_rows is None else target_rows  # [B, N]
            target_pairs = self.chosen[picks], self.rejected[picks]
        return PreferenceBatch(
            ctx_chosen=embeddings[ctx_c],  # [B, C, D]
            ctx_rejected=embeddings[ctx_r],
            ctx_mask=mask,
            chosen=targets[target_pairs[0]],  # [B, N, D]
            rejected=targets[target_pairs[1]],
            user_features=self.features[rows],
        )

    def same_user_rows(self, rows: Tensor, n: int, generator: torch.Generator) -> Tensor:
        """``[B, n]``: each row itself, then ``n - 1`` rows of the same user drawn with
        replacement. Every target pair of a user is a valid target for any of that user's
        contexts, so one context can teach the decoder and encoder n answers instead of one.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        starts, counts, members = self._user_rows()
        owner = self._row_user()[rows]  # [B]
        draw = torch.rand(len(rows), n - 1, generator=generator)  # [B, n-1]
        offsets = (draw * counts[owner, None]).long()  # [B, n-1] in [0, count)
        others = members[starts[owner, None] + offsets]
        return torch.cat([rows[:, None], others], dim=1)

    def same_user_targets(self, rows: Tensor, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(chosen [B, n], rejected [B, n])`` text ids: each row's own target pair, then
        ``n - 1`` pairs drawn with replacement from the user's target pairs *and* from the
        user's answers that are not in this row's context.

        A user's answers are the union of their rows' contexts; an answer left out of a
        context is a labelled pair that context has not seen, so it is a fair target for it
        (the answers in the context are not: the encoder reads them). Every pool holds at
        least the user's own target rows, so a full context still gets n targets.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        starts, counts, members = self._user_rows()
        ans_c, ans_r, ans_ok = self._user_answers()  # [U, A] each
        owner = self._row_user()[rows]  # [B]
        c, r = ans_c[owner], ans_r[owner]  # [B, A]
        seen = ((c[:, :, None] == self.ctx_chosen[rows, None, :])
                & (r[:, :, None] == self.ctx_rejected[rows, None, :])
                & self.ctx_mask[rows, None, :]).any(-1)  # [B, A]: in this row's context
        free = ans_ok[owner] & ~seen  # [B, A]
        n_rows, n_free = counts[owner], free.sum(1)  # [B] each
        draw = torch.rand(len(rows), n - 1, generator=generator)  # [B, n-1]
        pick = (draw * (n_rows + n_free)[:, None]).long()  # [B, n-1] in [0, rows + free)
        as_row = pick < n_rows[:, None]
        row_ids = members[starts[owner, None] + pick.clamp(max=n_rows[:, None] - 1)]  # [B, n-1]
        free_cols = torch.argsort((~free).to(torch.int8), dim=1, stable=True)  # free ones first
        col = free_cols.gather(1, (pick - n_rows[:, None]).clamp(min=0, max=free.shape[1] - 1))
        chosen = torch.where(as_row, self.chosen[row_ids], c.gather(1, col))
        rejected = torch.where(as_row, self.rejected[row_ids], r.gather(1, col))
        return (torch.cat([self.chosen[rows, None], chosen], 1),
                torch.cat([self.rejected[rows, None], rejected], 1))

    def _user_answers(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(chosen [U, A], rejected [U, A], real [U, A])``: every distinct context answer of
        each user (users numbered as in :meth:`_row_user`), padded to the most any user gave."""
        cached = getattr(self, "_user_answers_cache", None)
        if cached is None:
            owner = self._row_user().tolist()
            answers: list[dict[tuple[int, int], None]] = [{} for _ in range(max(owner, default=-1) + 1)]
            for i, u in enumerate(owner):
                real = self.ctx_mask[i]
                for pair in zip(self.ctx_chosen[i][real].tolist(), self.ctx_rejected[i][real].tolist()):
                    answers[u][pair] = None
            width = max((len(a) for a in answers), default=0)
            cached = (torch.zeros(len(answers), width, dtype=torch.long),
                      torch.zeros(len(answers), width, dtype=torch.long),
                      torch.zeros(len(answers), width, dtype=torch.bool))
            for u, pairs in enumerate(answers):
                for j, (ci, ri) in enumerate(pairs):
                    cached[0][u, j], cached[1][u, j], cached[2][u, j] = ci, ri, True
            object.__setattr__(self, "_user_answers_cache", cached)
        return cached

    def _row_user(self) -> Tensor:
        """Each row's user index ``[R]`` (users numbered in order of first appearance)."""
        cached = getattr(self, "_row_user_cache", None)
        if cached is None:
            index: dict[str, int] = {}
            cached = torch.tensor([index.setdefault(u, len(index)) for u in self.users])
            object.__setattr__(self, "_row_user_cache", cached)
        return cached

    def _user_rows(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(starts [U], counts [U], members [R])``: user u's rows are
        ``members[starts[u]:starts[u] + counts[u]]``."""
        owner = self._row_user()
        members = torch.argsort(owner, stable=True)
        counts = torch.bincount(owner)
        starts = torch.cumsum(counts, 0) - counts
        return starts, counts, members


def with_context_targets(batch: PreferenceBatch) -> PreferenceBatch:
    """``batch`` with each context's answers appended to its targets: ``[B, N + C]`` pairs,
    ``pair_mask`` True on the N targets and on the real context answers.

    The loss is then the likelihood of every answer the encoder read *and* of the held-out
    targets (a VAE's full ELBO), so the decoder learns its reward basis from all of a user's
    answers under a ``z`` that explains them, not only from the targets that ``z`` predicts.

    Example:
        >>> b = PreferenceBatch(torch.zeros(2, 3, 4), torch.ones(2, 3, 4),
        ...                     torch.tensor([[True, True, False], [False, False, False]]),
        ...                     torch.zeros(2, 1, 4), torch.ones(2, 1, 4))
        >>> with_context_targets(b).pair_mask.tolist()
        [[True, True, True, False], [True, False, False, False]]
    """
    targets = batch.pair_mask  # [B, N]
    if targets is None:
        targets = torch.ones(batch.chosen.shape[:2], dtype=torch.bool, device=batch.chosen.device)
    return replace(batch, chosen=torch.cat([batch.chosen, batch.ctx_chosen], dim=1),
                   rejected=torch.cat([batch.rejected, batch.ctx_rejected], dim=1),
                   pair_mask=torch.cat([targets, batch.ctx_mask], dim=1))


def user_features(row: dict[str, Any], card: dict[str, Any], users: Sequence[str]) -> list[float]:
    """The oracle's view of a user: their attribute weights, else a one-hot of their type."""
    if row.get("user_weights") is not None:
        return [float(w) for w in row["user_weights"]]
    types = list(card.get("user_types") or users)
    key = row.get("user_type") or row["user"]
    return [1.0 if key == t else 0.0 for t in types]


def _context_texts(row: dict[str, Any], survey: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    pairs = []
    for item in row["context"]:
        pair = survey[item["id"]]
        chosen, rejected = (pair["a"], pair["b"]) if item["chosen"] == "a" else (pair["b"], pair["a"])
        pairs.append((render(pair["prompt"], chosen), render(pair["prompt"], rejected)))
    return pairs


def split_texts(dataset: Dataset, split: str) -> list[str]:
    """Every rendered text a split needs: targets and context pairs, deduplicated, in order."""
    texts: dict[str, None] = {}
    for row in getattr(dataset, split):
        texts[render(row["prompt"], row["chosen"])] = None
        texts[render(row["prompt"], row["rejected"])] = None
        for c, r in _context_texts(row, dataset.survey):
            texts[c] = texts[r] = None
    return list(texts)


def encode_split(dataset: Dataset, split: str, text_ids: dict[str, int]) -> EncodedSplit:
    """Index tensors for one split; ``text_ids`` maps a rendered text to its embedding row."""
    rows = getattr(dataset, split)
    if not rows:
        raise ValueError(f"{dataset.folder}: split {split!r} has no rows.")
    width = max(len(r["context"]) for r in rows)
    n = len(rows)
    ctx_c = torch.zeros(n, width, dtype=torch.long)
    ctx_r = torch.zeros(n, width, dtype=torch.long)
    mask = torch.zeros(n, width, dtype=torch.bool)
    chosen, rejected, features = [], [], []
    all_users = sorted({r["user"] for r in dataset.train})
    for i, row in enumerate(rows):
        chosen.append(text_ids[render(row["prompt"], row["chosen"])])
        rejected.append(text_ids[render(row["prompt"], row["rejected"])])
        for j, (c, r) in enumerate(_context_texts(row, dataset.survey)):
            ctx_c[i, j], ctx_r[i, j], mask[i, j] = text_ids[c], text_ids[r], True
        features.append(user_features(row, dataset.card, all_users))
    return EncodedSplit(
        name=split,
        chosen=torch.tensor(chosen),
        rejected=torch.tensor(rejected),
        ctx_chosen=ctx_c,
        ctx_rejected=ctx_r,
        ctx_mask=mask,
        features=torch.tensor(features, dtype=torch.float32),
        controversial=torch.tensor([bool(r["controversial"]) for r in rows]),
        users=[str(r["user"]) for r in rows],
        user_types=[str(r.get("user_type") or r["user"]) for r in rows],
    )
