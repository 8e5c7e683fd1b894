"""Mutation testing for SPL: change one small thing in a module, run the tests that cover it,
and record whether they notice.

Two modes:

* ``python tools/mutate.py [--module PATH ...]`` (``make mutate``): for each module of
  ``MODULES``, every mutant the operators below produce is applied, one at a time, to a copy
  of the working tree, and that module's test files run (``pytest -x``, in file order, with a
  deadline). A failing or timed-out run kills the mutant. ``--jobs N`` (default: one per
  core) runs N mutants at once, each in a copy of the tree of its own. The counts go to
  ``docs/results/mutation.json`` (merged with the modules already there) and the survivors to
  ``docs/results/mutation.md``; ``EQUIVALENT`` lists survivors checked by hand and found
  equivalent, left out of the score.
* ``python tools/mutate.py --survivors --module PATH``: after new tests, only the mutants that
  share a line and operator with a stored survivor of PATH run again; every other mutant keeps
  its stored outcome (valid while the module itself is unchanged). ``HARMLESS`` lists
  survivors checked by hand that change nothing a result depends on (a progress bar, a
  timeout, a speed choice); they still count as survived, and mutation.md prints the reason.
* ``python tools/mutate.py --report``: mutation.{json,md} rewritten from the stored results
  and the current notes, nothing run.
* ``python tools/mutate.py --check-notes``: the ``EQUIVALENT``/``HARMLESS`` entries that no
  longer match a mutant of their module (keys carry line numbers, which move with the code),
  and the ``HARMLESS`` ones whose survivor is gone from the stored result; a run warns about
  them for its module too.
* ``python tools/mutate.py --listed``: the hand-made mutations of issue 13, each an exact text
  replacement, each against the named tests meant to kill it; the table goes to
  ``docs/results/mutation-listed.md``. A replacement whose text is no longer in the module is
  reported as "does not apply" (the code moved on: update the entry).

Operators (on the module's syntax tree; each mutant is ``ast.unparse`` of the tree with one
node changed): arithmetic ``+ - * / // **`` swapped, comparisons ``< <= > >= == != in is``
negated or loosened, ``and``/``or`` swapped, ``not x``/``-x`` -> ``x``, numbers ``n -> n + 1``
(floats ``x -> 2x``, ``0.0 -> 1.0``), ``True``/``False`` swapped, and a call statement removed.
Strings, docstrings and annotations are left alone. Why not mutmut: mutmut 3 first runs the
whole suite to map tests to functions and mutates every module against that one suite, which
takes hours on the shared 2-core machines; here each module runs only the tests named for it.
Each test run is a fork of this process with torch and the other ``PRELOAD`` packages already
imported (a fresh ``python -m pytest`` per mutant spent most of its time importing them);
``SPL_MUTATE_FRESH=1`` runs a fresh interpreter per mutant instead.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"

# module -> the test files that cover it (kept short: every mutant runs them all, with -x)
MODULES: dict[str, list[str]] = {
    "spl_model/losses.py": ["tests/spl_model/test_losses.py",
                            "tests/spl_model/test_exact_numbers.py"],
    "spl_model/metrics.py": ["tests/spl_model/test_metrics.py"],
    "spl_model/encoders.py": ["tests/spl_model/test_encoders.py",
                              "tests/spl_model/test_exact_numbers.py"],
    "spl_model/decoders.py": ["tests/spl_model/test_decoders.py",
                              "tests/spl_model/test_exact_numbers.py"],
    "spl_model/made.py": ["tests/spl_model/test_flows.py"],
    "spl_model/flows.py": ["tests/spl_model/test_flows.py"],
    "spl_model/models.py": ["tests/spl_model/test_models.py", "tests/spl_model/test_encoders.py",
                            "tests/spl_model/test_options.py",
                            "tests/spl_model/test_exact_numbers.py",
                            "tests/spl_model/test_training.py"],
    "spl_model/active.py": ["tests/spl_model/test_active.py",
                            "tests/spl_model/test_exact_numbers.py"],
    "spl_model/checkpoint.py": ["tests/spl_model/test_checkpoint.py"],
    "spl_model/config.py": ["tests/spl_model/test_models.py", "tests/spl_model/test_options.py"],
    # (a module path among the tests runs its doctests: pytest.ini has --doctest-modules)
    "spl_model/atomic.py": ["tests/spl_model/test_atomic.py", "spl_model/atomic.py"],
    "spl_model/study_export.py": ["tests/spl_model/test_study_export.py"],
    "spl_model/__init__.py": ["tests/spl_model/test_metrics.py"],  # lazy exports: imports them
    "spl_model/render.py": ["tests/spl_model/test_render.py", "spl_model/render.py",
                            "tests/train/test_backbones.py"],
    "spl_model/quantize.py": ["tests/train/test_backbones.py"],
    "spl_model/backbones.py": ["tests/spl_model/test_backbone_spec.py", "spl_model/backbones.py",
                               "tests/train/test_backbones.py"],
    "spl_model/calibration.py": ["tests/train/test_fewshot.py"],
    "spl_model/refine.py": ["tests/spl_model/test_refine.py", "spl_model/refine.py"],
    "train/reference.py": ["tests/train/test_reference.py", "train/reference.py"],
    # (not tests/train/test_personalize.py: its CLI test alone takes ~13 s a run; model_margins'
    # refine branch has its own test in test_fewshot.py)
    "train/fewshot.py": ["tests/train/test_fewshot.py", "tests/train/test_reference.py"],
    "train/batching.py": ["tests/train/test_fewshot.py", "tests/train/test_evaluate_numbers.py",
                          "tests/train/test_fit_resume.py"],
    "train/evaluate.py": ["tests/train/test_evaluate_numbers.py"],
    "train/resume.py": ["tests/train/test_rng_resume.py", "tests/train/test_fit_resume.py",
                        "tests/train/test_fit.py"],
    "train/fit.py": ["tests/train/test_fit_numbers.py", "tests/train/test_fit_resume.py",
                     "tests/train/test_fit.py"],
    # (the peft import check starts a fresh interpreter for 10 s and tests no number)
    "app/service.py": ["tests/app/test_service.py", "tests/app/test_service_setup.py",
                       "tests/app/test_app_numbers.py",
                       "--deselect=tests/app/test_service.py::test_app_does_not_import_peft"],
    "app/handlers.py": ["tests/app/test_handlers.py", "tests/app/test_app_numbers.py",
                        "tests/app/test_active_order.py"],
    # (only test_app_numbers.py's two store tests: the others build the demo's models)
    "app/store.py": ["tests/app/test_store.py",
                     "tests/app/test_app_numbers.py::test_a_busy_database_is_a_plain_store_error",
                     "tests/app/test_app_numbers.py::test_restore_refuses_a_backup_that_fails_"
                     "the_integrity_check"],
    "app/store_input.py": ["tests/app/test_store.py"],
    "app/store_backup.py": ["tests/app/test_store.py",
                            "tests/app/test_app_numbers.py::test_restore_refuses_a_backup_that_"
                            "fails_the_integrity_check"],
}

# survivors checked by hand and found equivalent: module -> {"line N: what": why}; they count
# neither as killed nor as survived (line numbers move with the code: re-check after edits)
EQUIVALENT: dict[str, dict[str, str]] = {
    "spl_model/refine.py": {
        "line 87: call statement removed": "`opt.zero_grad` each step: the next line's "
                                           "`current.grad = z_grad` replaces the gradient "
                                           "whole, so none accumulates across steps",
        "line 87: True -> False": "`zero_grad(set_to_none=False)` zeroes the gradient in place, "
                                  "which `current.grad = z_grad` then replaces: the same step",
    },
    "spl_model/atomic.py": {
        "line 49: True -> False": "`missing_ok=False` on the failed write's temporary file: "
                                  "the FileNotFoundError it would raise is an OSError, which "
                                  "the enclosing `contextlib.suppress(OSError)` swallows",
    },
    "spl_model/losses.py": {
        "line 78: USub removed": "`dim=-1` -> `dim=1` in `_cosine`, whose inputs are always "
                                 "[B, Z]: the same dimension",
    },
    "spl_model/models.py": {
        "line 352: False -> True": "`with_swap=True` in lookahead_z: the swapped statistics "
                                   "are computed (no grad) and discarded, z is the same",
        "line 365: False -> True": "`with_swap=True` in sample_z: the swapped statistics are "
                                   "discarded, the samples are the same",
        "line 422: False -> True": "`with_swap=True` in margins: the posterior's swapped "
                                   "statistics are never read, the margins are the same",
        "line 378: comparison 0: Gt -> GtE": "`input_dropout >= 0`: with p = 0 F.dropout "
                                             "returns its input itself and draws no random "
                                             "number (checked: torch's RNG state unchanged), "
                                             "so training is the same",
        "line 445: And -> Or": "`post is not None or has_latent`: only BTL changes branch, "
                               "and its closed-form KL over a [B, 0] latent is 0, as before",
        "line 454: And -> Or": "an `assert` that cannot fail either way (both swap "
                               "statistics are set whenever the guide is used)",
    },
    "spl_model/made.py": {
        "line 143: comparison 0: Gt -> GtE": "`used >= dense` also runs a band of zero "
                                             "columns, which adds 0",
    },
    "train/reference.py": {
        "line 178: 0.0 -> 1.0": "bayes_active_order's update for a padding pick adds 1.0 "
                                "instead of 0.0 to every point's log-weight of that user: "
                                "the softmax over points is the same",
        "line 260: USub removed": "`.sum(1)` of the [b, B] product instead of `.sum(-1)`: the "
                                  "same axis",
        "line 274: 0 -> 1": "`answered.shape[1] == 0` (never true): with no answer Newton "
                            "starts at the prior mean, where the gradient is exactly 0, so u "
                            "stays the prior mean (the `== 1` mutant of the same line is killed)",
    },
    "spl_model/active.py": {
        "line 236: comparison 0: LtE -> Lt": "with T = 0 the loop picks `linspace(.., 0)`, no "
                                             "index, and stacks the same [B, 0] result",
    },
    "spl_model/decoders.py": {
        "line 40: USub removed": "`z.shape[1]` for `z.shape[-1]`: z is always [B, Z]",
        "line 40: 1 -> 2": "`if z.shape[-2]` (B >= 1): with Z = 0 the term it then adds is a "
                           "product over an empty dimension, 0",
        "line 88: USub removed": "`chunk(2, dim=1)` of the [B, 2H] output: the same axis",
    },
    "train/fit.py": {
        "line 82: 1 -> 2": "`t / max(warmup, 2)` differs only when warmup < 2, where the only "
                            "warm-up step is t = 0 and the factor is 0 either way",
        "line 83: 1 -> 2": "`max(total - warmup, 2)` differs only when total - warmup = 1, "
                            "at t = total, after the last step",
        "line 140: 0 -> 1": "the number of batches per epoch does not depend on the epoch "
                            "whose shuffle is counted",
        "line 158: comparison 0: GtE -> Gt": "one more step after the last runs at the "
                                             "schedule's lr 0 (the cosine reaches 0 at t = "
                                             "total), so the weights do not change; only "
                                             "AdamW's moments, which are discarded",
        "line 163: call statement removed": "`model.train()` each step: the model is in "
                                            "training mode all along (built so, and "
                                            "evaluate_split restores the mode it found)",
        "line 228: call statement removed": "creating the run folder of a config-only run: "
                                            "it exists by then, since every fit has a test "
                                            "split (its report reads data.splits['test'] in "
                                            "train/report.py; checked: a fit without one "
                                            "stops there with a KeyError) and the last "
                                            "step's progress checkpoint writes into the folder",
        "line 228: True -> False": "`parents=False` on that folder: it exists (as above); the "
                                   "line's other flag, `exist_ok=False`, is killed",
        "line 255: False -> True": "the quick evaluation reads accuracy, AU and KL only: the "
                                   "context curve it would add is computed and dropped",
        "line 165: True -> False": "zeroed instead of freed gradients: every trainable "
                                   "parameter gets a gradient every step, so AdamW updates the "
                                   "same parameters with the same values",
        "line 196: comparison 0: Gt -> GtE": "with targets_per_context = 1 (FitConfig "
                                             "refuses answer_targets then), "
                                             "`same_user_rows(rows, 1, g)` is `rows[:, None]`, "
                                             "the batch _train_batch builds without targets "
                                             "(its generator is a private one)",
    },
    "spl_model/checkpoint.py": {
        "line 92: 0 -> 1": "a config without format_version read as 0 or as 1: both are <= "
                           "FORMAT_VERSION (1), so it loads either way",
        "line 112: call statement removed": "_read_weights' own pickle refusal: its one caller, "
                                            "load_model, refuses the pickles of a folder "
                                            "without weights before reading any",
        "line 162: 0 -> 1": "counting a layer's stored blocks from 1: block 0 exists whenever "
                            "the layer does, so the count is the same",
        "line 196: True -> False": "strict loading: _check_state has already refused missing, "
                                   "extra and mis-shaped tensors",
    },
    "app/service.py": {
        "line 238: USub removed": "`new.shape[1]` for `new.shape[-1]`: the embedder returns "
                                  "[M, D], so both are D",
        "line 430: USub removed": "the pack file's `dim` when its metadata lacks one: -1 and 1 "
                                  "are both unequal to any model width (>= 2), so the vectors "
                                  "are refused either way",
        "line 430: 1 -> 2": "the pack file's `dim` when its metadata lacks one: -1 and -2 are "
                            "both unequal to any model width, so the vectors are refused "
                            "either way",
        "line 325: 0 -> 1": "the probe tensor of a pack without ranking sets ([1, D] for [0, D]): "
                            "never read, since confidence and stability return {} first when "
                            "there are no slices",
    },
    "app/store.py": {
        "line 193: 0 -> 1": "the schema version when MIGRATIONS is empty, which it never is",
        "line 253: And -> Or": "a session is finished exactly when it has a completion code "
                               "(one UPDATE sets both), so `finished or code` is `finished and "
                               "code`",
        "line 255: comparison 0: Gt -> GtE": "with min_answers = 0 the count runs and no count "
                                             "is below 0: no refusal either way",
    },
    "app/store_backup.py": {
        "line 67: 0 -> 1": "the latest schema version when MIGRATIONS is empty, which it "
                           "never is",
    },
    "train/fewshot.py": {
        "line 93: 0 -> 1": "`C == 1` for `C == 0` in the early return: a context of one column "
                           "has one order, [0], either way, and with no column the greedy loop "
                           "runs no step and returns the same [R, 0] order",
        "line 121: 0 -> 1": "the picks of a chunk without real pairs as [B, 1] zeros instead "
                            "of [B, 0]: completed in order, [0] + [1, ..., C-1] is the same "
                            "identity order (C >= 1 here: C = 0 returned earlier)",
        "line 116: comparison 0: Lt -> LtE": "`choice.best <= 0`: the selector returns column 0 "
                                             "only while 0 is not picked yet, and then the "
                                             "lowest unpicked column it is replaced with is 0 "
                                             "itself",
        "line 116: 0 -> 1": "`choice.best < 1`: as for `<= 0`, a best of 0 is replaced with "
                            "the lowest unpicked column, which is 0",
    },
    "train/evaluate.py": {
        "line 142: False -> True": "`full_matrices=True` in latent_map's SVD: the first two "
                                   "rows of v (the components used) are the same up to sign, "
                                   "which PCA leaves free",
    },
    "spl_model/backbones.py": {
        "line 171: 1 -> 2": "the tail read asks for 2 MiB from 1 MiB before the end: the read "
                            "stops at the end of the file, the same bytes",
        "line 171: 20 -> 21": "as above (`1 << 21`)",
        "line 270: Div -> Mult": "the mean's scale (sum times count instead of over it): "
                                 "F.normalize divides any scale out, so the same unit vector; "
                                 "a row without real tokens is 0 either way",
        "line 270: 1.0 -> 2.0": "`clamp(min=2.0)` on the real-token count: only a scale again "
                                "(count 1 read as 2), which F.normalize divides out",
        "line 271: USub removed": "`F.normalize(dim=1)` of the (N, D) mean: the same axis",
        "line 307: False -> True": "counting special tokens when deciding which texts to cut: "
                                   "a text that fits without them is handed to keep_response, "
                                   "which counts without them and returns it whole",
        "line 309: comparison 0: LtE -> Lt": "a text of exactly the budget is handed to "
                                             "keep_response, which returns it whole",
        "line 446: Or -> And": "passing the recorded revision for minilm and local folders: "
                               "from_pretrained ignores `revision` for a local folder, which "
                               "minilm is too (the wheel's model path)",
    },
    "train/batching.py": {
        "line 154: 1 -> 2": "one more (empty) user slot after the last (`+ 2`), or the "
                            "default of an empty split (`-2`): no row's owner reaches either, "
                            "so every gathered answer is the same",
        "line 154: USub removed": "`default=1` for the last user of a split with no rows: no "
                                  "row, no draw",
        "line 159: 0 -> 1": "the answer width of a split with no users: no row, no draw",
        "line 142: Sub -> Add": "`max=free.shape[1] + 1` in the clamp of an answer's column: a "
                                "pick is below rows + free answers, so `pick - rows` is at most "
                                "free - 1 <= A - 1 and the cap never binds",
    },
    "train/resume.py": {
        "line 70: True -> False": "`missing_ok=False` when deleting stale state files: the glob "
                                  "listed them a moment before and one process saves a run",
        "line 66: 1 -> 2": "the indent of progress.json: the same JSON",
        "line 98: 2 -> 3": "`split('.', 3)` of `optim.<index>.<name>`: optimizer state names "
                           "have no dot, so the same three parts",
    },
}

_BLOCKS = ("a speed choice for new models only (`_blocks_for`'s docstring): every block count "
           "computes the same function (test_flows.py::test_recutting_a_masked_layer_keeps_"
           "its_function) and a saved model loads with its own recorded layout")

# survivors checked by hand that change something no result depends on (a default nobody
# relies on, a progress flag, a digit of rounding no number is published at): module ->
# {"line N: what": why}. They still count as survived; mutation.md prints the reason next to
# each (matched when the results are written, so a stored run needs no re-run)
HARMLESS: dict[str, dict[str, str]] = {
    "spl_model/render.py": {
        "line 49: False -> True": "`verbose=True` for the offsets call: the tokenizer may log "
                                  "a too-long-sequence warning; the tokens are the same (the "
                                  "line's other flag, add_special_tokens, is killed)",
        "line 71: False -> True": "`verbose=True` for the re-check: as above",
        "line 54: comparison 0: LtE -> Lt": "a text whose marker is at position 0 goes through "
                                            "the cut: no prompt token, so it keeps the text's "
                                            "start up to the budget, which is what the "
                                            "no-marker branch returns (for a tokenizer that "
                                            "re-counts a prefix as it counted it)",
        "line 54: 0 -> 1": "a marker at position 1 (one character before it): that character "
                           "is whitespace or a one-token prompt, kept or not with the same "
                           "tokens; only leading whitespace can differ",
    },
    "spl_model/flows.py": {
        "line 119: 0 -> 1": "AffineFlow's default ordering seed: the model always passes "
                            "`ModelConfig.flow_seed`, and a saved flow carries its orderings",
    },
    "spl_model/made.py": {
        "line 153: 1 -> 2": "the size from which a new layer is cut in 4 blocks: " + _BLOCKS,
        "line 153: 18 -> 19": "the size from which a new layer is cut in 4 blocks: " + _BLOCKS,
        "line 160: comparison 0: GtE -> Gt": "the size from which a new layer is cut in 4 "
                                             "blocks: " + _BLOCKS,
        "line 160: 4 -> 5": "the size from which a new layer is cut in 4 blocks: " + _BLOCKS,
    },
    "spl_model/backbones.py": {
        "line 308: False -> True": "`verbose=True` when counting tokens: the tokenizer may log a "
                                   "too-long-sequence warning; the same counts",
        "line 328: 32 -> 33": "embed's default batch size: each text's vector is the same up "
                              "to float noise whatever the batch (embed's docstring; "
                              "test_minilm_batch_invariance)",
        "line 328: False -> True": "embed's progress bar default",
        "line 337: True -> False": "the order in which the length-sorted batches run (shortest "
                                   "first): each text's vector is the same up to float noise, "
                                   "returned in input order",
        "line 350: 128 -> 129": "add_lora's default rank: every caller (train/cli_fit.py, "
                                "train/runs.py) passes r, alpha and dropout from the fit settings",
        "line 350: 256 -> 257": "add_lora's default alpha: as above",
        "line 350: 0.1 -> 0.2": "add_lora's default dropout: as above",
        "line 366: comparison 0: NotEq -> Eq": "prepare_model_for_kbit_training on the "
                                               "unquantized model instead of the quantized "
                                               "one: it casts the norms to fp32 and readies "
                                               "checkpointing (off); the CPU tests' tiny Llama "
                                               "is fp32 already, so only a bf16 GPU model "
                                               "would differ",
        "line 365: call statement removed": "the filter that hides peft's deprecation "
                                            "warning about a transformers API while adding "
                                            "LoRA: a warning more, the same adapters",
        "line 321: comparison 0: Eq -> NotEq": "position ids for encoders instead of causal "
                                               "LMs: an encoder's right-padded text gets "
                                               "0..n-1, its default, and the test Llama's "
                                               "rotary positions depend on position "
                                               "differences only, which a left-padding shift "
                                               "keeps (a causal LM with absolute positions, "
                                               "e.g. GPT-2, would differ: none is tested)",
        "line 323: Sub -> Add": "positions 2..n+1 instead of 0..n-1: a constant shift, which "
                                "rotary positions ignore (as above)",
        "line 451: comparison 0: Eq -> NotEq": "bf16 weights for an encoder instead of a "
                                               "causal LM, on CUDA only: no test machine has "
                                               "a GPU (the line's other mutants are killed on "
                                               "the CPU)",
        "line 368: False -> True": "gradient checkpointing for a quantized LoRA model: the same "
                                   "gradients, recomputed (slower: the docstring's reason)",
    },
    "train/batching.py": {
        "line 166: call statement removed": "the user-answers cache: recomputed on every "
                                            "call, the same values (slower only)",
        "line 175: call statement removed": "the row-owner cache: recomputed on every call, "
                                            "the same values (slower only)",
        "line 182: True -> False": "`stable=False` when listing a user's rows: only their "
                                   "order among themselves can change, so a draw may land on "
                                   "another of the user's rows; the same uniform draw",
        "line 141: True -> False": "`stable=False` when ordering a user's free answers first: "
                                   "only the order among free answers can change, so a draw may "
                                   "land on another free answer; the same uniform draw over them",
    },
    "train/resume.py": {
        "line 72: True -> False": "`ignore_errors=False` when removing a leftover save folder of "
                                  "the old layout: only an unremovable leftover (permissions; "
                                  "root, as the tests run, removes anything) would then stop "
                                  "the save",
    },
    "train/fewshot.py": {
        "line 62: 512 -> 513": "model_margins' chunk size: each row's eval-mode margin does not "
                               "depend on the rows scored with it (the padded-batch test of "
                               "tests/spl_model/test_encoders.py), up to float rounding",
        "line 84: 256 -> 257": "active_order's chunk size: which of one step's seeded Monte "
                               "Carlo draws a user's BALD scores get (users are scored 256 at a "
                               "time under one seed per step): another chunk size is another, "
                               "equally valid draw of the same estimator",
    },
    "train/fit.py": {
        "line 65: True -> False": "the embedding progress bar",
        "line 111: True -> False": "fit's progress bar default",
        "line 153: Sub -> Add": "the wall-clock seconds reported (train_seconds), not a result",
        "line 170: call statement removed": "the progress bar",
        "line 170: 1 -> 2": "the progress bar",
        "line 171: call statement removed": "the progress bar's loss display",
        "line 176: Sub -> Add": "the wall-clock seconds saved for a resume (train_seconds)",
        "line 177: call statement removed": "closing the progress bar",
        "line 178: Sub -> Add": "the wall-clock seconds reported (train_seconds)",
        "line 256: 5 -> 6": "a digit of the training loss in history.json (plots only)",
        "line 257: 5 -> 6": "a digit of the training BT loss in history.json (plots only)",
        "line 267: True -> False": "`text=False` for `git rev-parse`: the mutation copy has no "
                                   ".git, so the commit is None either way; in a checkout "
                                   "test_the_code_version_is_the_checkout_commit_or_none "
                                   "compares it with `git rev-parse HEAD`",
        "line 268: 5 -> 6": "the timeout of `git rev-parse`",
        "line 218: call statement removed": "killed by tests/train/test_fit_numbers.py::"
                                            "test_fit_returns_the_trained_model_in_eval_mode, "
                                            "written after this run (checked by hand on the "
                                            "mutant); the count above predates it",
        "line 179: call statement removed": "`accelerator.wait_for_everyone()`: a no-op in "
                                            "one process; the two-process run of "
                                            "tests/train/test_fit_ddp.py needs it",
        "line 129: Not removed": "`Accelerator(cpu=torch.cuda.is_available())`: on a machine "
                                 "without CUDA (where the tests run) both place the model on "
                                 "the CPU; on a GPU it would train on the CPU, which only a GPU "
                                 "test can see",
        "line 135: comparison 0: In -> NotIn": "plain instead of fused AdamW: the same update "
                                               "up to float rounding (both runs compared in "
                                               "the tests use the same variant)",
    },
    "app/service.py": {
        "line 101: call statement removed": "`move_to_end` in the cache's put: put is only "
                                            "called for texts the cache lacked, which a new "
                                            "key already places last",
        "line 133: 2048 -> 2049": "the default size of the typed-text embedding cache",
        "line 158: 2048 -> 2049": "the default size of the typed-text embedding cache",
    },
    "app/handlers.py": {
        "line 64: 1 -> 2": "which bit of the session's digest picks the A/B order of a pair: "
                           "any bit is an equally fair, equally reproducible coin",
        "line 64: 0 -> 1": "which byte of the session's digest picks the A/B order of a pair: "
                           "any byte is an equally fair, equally reproducible coin",
    },
    "spl_model/checkpoint.py": {
        "line 74: 2 -> 3": "config.json's indent: the same JSON",
        "line 74: True -> False": "config.json's key order: the same JSON object",
        "line 118: comparison 0: GtE -> Gt": "the shortest file that could be safetensors: a "
                                             "9-byte file is no model and fails to load "
                                             "either way",
        "line 118: 9 -> 10": "the shortest file that could be safetensors: a 9-byte file is no "
                             "model and fails to load either way",
    },
    "app/store.py": {
        "line 93: 10.0 -> 20.0": "how long a write waits for a locked database (busy_timeout)",
        "line 103: 10.0 -> 20.0": "how long a write waits for a locked database (busy_timeout)",
        "line 114: call statement removed": "closing a store whose opening failed: its "
                                            "connection goes with the dropped object",
        "line 133: call statement removed": "`PRAGMA synchronous = FULL`: this SQLite build's "
                                            "default is already FULL (2), which the pragma "
                                            "test reads; the line guards builds whose default "
                                            "is NORMAL",
        "line 134: False -> True": "sqlite-utils' plugin hooks: none is installed",
        "line 158: call statement removed": "the rollback after a failed BEGIN IMMEDIATE or "
                                            "COMMIT: a failed BEGIN leaves no transaction open "
                                            "and errors in the body are rolled back by the inner "
                                            "handler; only a failing COMMIT needs it, which these "
                                            "tests cannot provoke (not killed, not equivalent)",
    },
    "app/store_backup.py": {
        "line 41: call statement removed": "closing the backup's target connection: CPython "
                                           "closes it when `copy` returns (its last reference "
                                           "goes); no test sees a file handle",
        "line 62: True -> False": "`uri=False` when opening the backup read-only: this "
                                  "sqlite3 build reads URI filenames either way (a build "
                                  "without SQLITE_USE_URI would open a new empty file)",
        "line 66: False -> True": "sqlite-utils' plugin hooks: none is installed",
        "line 71: 10.0 -> 20.0": "how long a restore waits for a busy destination",
        "line 75: call statement removed": "closing the restore's target connection: as for "
                                           "the backup's, closed when restore returns (an "
                                           "error from src.backup, whose traceback would keep "
                                           "it, is not one these tests can provoke)",
    },
    "train/reference.py": {
        "line 54: 1e-09 -> 2e-09": "the tie threshold only absorbs float rounding: a margin "
                                   "from real evidence is orders of magnitude larger",
        "line 132: comparison 0: Lt -> LtE": "a margin of exactly 1e-9 (the tie threshold)",
        "line 98: 16 -> 17": "users per batched product: every user's margins are the same "
                             "for any chunk (the chunk=1 test)",
        "line 236: False -> True": "a progress bar",
        "line 270: 25 -> 26": "Newton steps: converged well before 25 (the gradient test), "
                              "one more changes nothing",
    },
    "spl_model/calibration.py": {
        "line 63: 50 -> 51": "Newton iterations: the fit stops on a step < 1e-9 long before",
        "line 69: comparison 0: Lt -> LtE": "Newton's stop at a step of exactly 1e-9",
        "line 69: 1e-09 -> 2e-09": "Newton's stopping step: the weights are rounded to 6 "
                                   "decimals, far above it",
        "line 66: Sub -> Add": "the Hessian only sizes Newton's step; the fixed point is where "
                               "the gradient is 0 (checked by the ridge-optimum test)",
        "line 66: 1 -> 2": "the Hessian only sizes Newton's step (as above)",
    },
    "train/evaluate.py": {
        "line 79: 256 -> 257": "evaluate_split's chunk size: each row's margin, latent and AU "
                               "vector do not depend on the chunk it is scored in beyond float "
                               "rounding (the "
                               "padded-batch test of tests/spl_model/test_encoders.py); only the "
                               "flow KL's fixed noise is drawn per chunk, the same estimate",
    },
}

PYTEST = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-header"]


# -- mutants -------------------------------------------------------------------------------

_BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
           ast.FloorDiv: ast.Mult, ast.Pow: ast.Mult}
_CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
           ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    line: int
    what: str
    source: str


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, f-strings, ``__all__``."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for arg in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                mark(arg.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            mark(node)
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
    return skip


def _changes(node: ast.AST) -> list[tuple[str, object]]:
    """The mutations one node offers: ``(description, replacement or op class)``."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOPS:
        new = _BINOPS[type(node.op)]
        return [(f"{type(node.op).__name__} -> {new.__name__}", new)]
    if isinstance(node, ast.Compare):
        return [(f"comparison {i}: {type(op).__name__} -> {_CMPOPS[type(op)].__name__}", i)
                for i, op in enumerate(node.ops) if type(op) in _CMPOPS]
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        return [(f"{type(node.op).__name__} -> {new.__name__}", new)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        return [(f"{type(node.op).__name__} removed", None)]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return [(f"{node.value} -> {not node.value}", not node.value)]
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return [(f"{node.value} -> {node.value + 1}", node.value + 1)]
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        new = node.value * 2 if node.value else 1.0
        return [(f"{node.value} -> {new}", new)]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return [("call statement removed", None)]
    return []


def _apply(node: ast.AST, change: object) -> ast.AST | None:
    """Mutate ``node`` in place, or return the node that replaces it."""
    if isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)):
        node.op = change()  # type: ignore[operator]
    elif isinstance(node, ast.Compare):
        i = int(change)  # type: ignore[call-overload]
        node.ops[i] = _CMPOPS[type(node.ops[i])]()
    elif isinstance(node, ast.UnaryOp):
        return node.operand
    elif isinstance(node, ast.Constant):
        node.value = change
    elif isinstance(node, ast.Expr):
        return ast.Pass()
    return None


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().generic_visit(node)


def mutants(source: str) -> list[Mutant]:
    """Every single-node mutant of ``source``, in source order."""
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    sites = [(i, node) for i, node in enumerate(ast.walk(tree)) if id(node) not in skip]
    out = []
    for i, node in sites:
        for what, change in _changes(node):
            fresh = ast.parse(source)
            target = list(ast.walk(fresh))[i]
            replacement = _apply(target, change)
            if replacement is not None:
                fresh = _Replace(target, ast.copy_location(replacement, target)).visit(fresh)
            out.append(Mutant(getattr(node, "lineno", 0), what, ast.unparse(fresh) + "\n"))
    return sorted(out, key=lambda m: m.line)  # stable: the walk's order within a line


# -- running -------------------------------------------------------------------------------

def _copy_tree() -> Path:
    """The tracked and untracked-but-not-ignored files, copied to a temporary folder."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    dest = Path(tempfile.mkdtemp(prefix="spl-mutate-"))
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


# third-party packages imported once, before the first fork, so each mutant's test run skips
# their import and start-up (seconds per run); the project's own modules are imported fresh in
# every child. transformers, huggingface_hub and gradio read these variables when imported:
# they are set first to the values the tests' fixtures set (tests/train/conftest.py,
# tests/app/app_fixtures.py), so a preloaded import sees what a fresh one would.
PRELOAD_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
PRELOAD = ("numpy", "torch", "safetensors.torch", "sqlite_utils", "pytest", "transformers",
           "sentence_transformers", "gradio", "click", "pandas")


def _preload() -> bool:
    """Import ``PRELOAD`` here so forked test runs start warm; False where there is no fork."""
    if not hasattr(os, "fork") or os.environ.get("SPL_MUTATE_FRESH"):
        return False
    os.environ["OMP_NUM_THREADS"] = "1"
    for key, value in PRELOAD_ENV.items():
        os.environ.setdefault(key, value)
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    return True


def _own(module: object) -> bool:
    """Whether ``module`` is one of the project's own (a file under ROOT, not in ``.venv``):
    those are imported afresh from the mutated tree; a third-party package of the same name
    (``datasets``) stays loaded."""
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = Path(file).resolve()
    return path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / ".venv")


def _start(tree: Path, tests: list[str]) -> int:
    """Start ``tests`` in ``tree`` in a child process (its own process group, output dropped)
    and return its pid. With ``_FORK`` the child runs ``pytest.main`` with ``PRELOAD`` already
    imported (the same outcome as a fresh ``python -m pytest``, without the imports); else it
    execs a fresh interpreter."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.chdir(tree)
            os.environ.update(PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
            if not _FORK:
                os.execv(sys.executable, [sys.executable, "-m", "pytest", *PYTEST, *tests])
            sys.dont_write_bytecode = True
            sys.path[:] = [p for p in sys.path if p not in ("", str(ROOT))]
            for name in [n for n, m in sys.modules.items() if _own(m)]:
                del sys.modules[name]  # nothing of the project itself is imported yet
            import pytest

            code = int(pytest.main([*PYTEST, *tests]))
        finally:
            os._exit(code)
    return pid


def _poll(pid: int, deadline: float) -> str | None:
    """``"passed"``, ``"failed"``, ``"timeout"`` (killed: past ``deadline``, a
    ``time.monotonic()`` value) once the run ``pid`` is over; None while it runs."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
    if time.monotonic() < deadline:
        return None
    _kill(pid)
    return "timeout"


def _kill(pid: int) -> None:
    """Kill the run ``pid`` and everything it started, and reap it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


_FORK = False  # set by main() once PRELOAD is imported


def _run_tests(tree: Path, tests: list[str], timeout: float) -> str:
    """``"passed"``, ``"failed"`` or ``"timeout"``: one run, waited for."""
    pid, deadline = _start(tree, tests), time.monotonic() + timeout
    while (outcome := _poll(pid, deadline)) is None:
        time.sleep(0.02)
    return outcome


def run_mutants(trees: list[Path], module: str, found: list[Mutant], tests: list[str],
                timeout: float) -> list[str]:
    """The outcome of each mutant of ``found`` (in its order), run ``len(trees)`` at a time:
    each run has a tree of its own, with that mutant written into its copy of ``module``
    (restored to the original in every tree at the end)."""
    outcomes: list[str] = [""] * len(found)
    originals = {tree: (tree / module).read_text() for tree in trees}
    free, running = list(trees), {}  # running: pid -> (mutant index, its tree, deadline)
    waiting = iter(enumerate(found))
    try:
        while True:
            while free and (item := next(waiting, None)) is not None:
                tree = free.pop()
                (tree / module).write_text(item[1].source)
                running[_start(tree, tests)] = (item[0], tree, time.monotonic() + timeout)
            if not running:
                return outcomes
            for pid, (i, tree, deadline) in list(running.items()):
                if (outcome := _poll(pid, deadline)) is not None:
                    outcomes[i] = outcome
                    free.append(running.pop(pid)[1])
                    done = sum(map(bool, outcomes))
                    print(f"{module} {done}/{len(found)} line {found[i].line} {found[i].what}: "
                          f"{outcome}", flush=True)
            time.sleep(0.02)
    finally:
        for pid in running:
            _kill(pid)
        for tree, text in originals.items():
            (tree / module).write_text(text)


def _key(entry: str) -> str:
    """``"line N: what"`` of a survivor or equivalent entry of mutation.json."""
    return entry.split(" in `")[0]


def run_module(trees: list[Path], module: str, tests: list[str], limit: int | None,
               previous: dict | None = None) -> dict:
    """Every mutant of ``module``, ``len(trees)`` at a time; with ``previous`` (its stored
    result, the module unchanged since), only the mutants sharing a line and operator with a
    stored survivor run again and every other one keeps its stored outcome (killed or
    equivalent)."""
    path = trees[0] / module
    original = path.read_text()
    found = mutants(original)[:limit]
    killed, survivors, equivalent, timeouts = 0, [], [], 0
    if previous is not None:
        again = {_key(s) for s in previous["survivors"]}
        rerun = [m for m in found if f"line {m.line}: {m.what}" in again]
        # the stored kills minus those of the mutants run again (same key, killed before)
        killed = previous["killed"] - (len(rerun) - previous["survived"])
        equivalent, timeouts = list(previous.get("equivalent", [])), previous.get("timeouts", 0)
        found = rerun
    if not found and previous is None:  # nothing to mutate (constants only): no run needed
        return {"killed": 0, "survived": 0, "score": None, "timeouts": 0, "tests": tests,
                "survivors": [], "equivalent": [], "partial": False, "survivors_rerun": False}
    try:
        # the baseline: the module as the mutants are written (unparsed, comments dropped)
        path.write_text(ast.unparse(ast.parse(original)) + "\n")
        started = time.perf_counter()
        if _run_tests(trees[0], tests, timeout=1200) != "passed":
            raise SystemExit(f"{module}: its tests fail before any mutation; fix them first.")
    finally:
        path.write_text(original)
    # runs side by side share the cores: each may take up to len(trees) times as long
    deadline = max(60.0, 4 * len(trees) * (time.perf_counter() - started))
    outcomes = run_mutants(trees, module, found, tests, deadline)
    seconds = round(time.perf_counter() - started)
    for mutant, outcome in zip(found, outcomes):
        killed += outcome != "passed"
        timeouts += outcome == "timeout"
        if outcome == "passed":
            code = original.splitlines()[mutant.line - 1].strip()
            key = f"line {mutant.line}: {mutant.what}"
            if key in EQUIVALENT.get(module, {}):
                equivalent.append(f"{key} in `{code}`: {EQUIVALENT[module][key]}")
            else:
                survivors.append(f"{key} in `{code}`")
    total = killed + len(survivors)
    return {"killed": killed, "survived": len(survivors),
            "score": round(killed / total, 4) if total else None, "timeouts": timeouts,
            "tests": tests, "survivors": survivors, "equivalent": equivalent,
            "partial": limit is not None and limit < len(mutants(original)),
            "survivors_rerun": previous is not None, "seconds": seconds, "jobs": len(trees)}


def stale_notes(module: str, source: str, stored: dict | None = None,
                equivalent: dict[str, dict[str, str]] | None = None,
                harmless: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The ``EQUIVALENT``/``HARMLESS`` entries of ``module`` that name no mutant of ``source``
    (a line moved or the code changed: the note now explains nothing), and, given the
    module's ``stored`` result, the ``HARMLESS`` entries naming no stored survivor (killed
    since, or never run) other than "killed by" notes."""
    equivalent = EQUIVALENT if equivalent is None else equivalent
    harmless = HARMLESS if harmless is None else harmless
    keys = {f"line {m.line}: {m.what}" for m in mutants(source)}
    out = [f"{module}: {kind} entry '{k}' matches no mutant"
           for kind, notes in (("EQUIVALENT", equivalent), ("HARMLESS", harmless))
           for k in notes.get(module, {}) if k not in keys]
    if stored is not None:
        survivors = {_key(s) for s in stored.get("survivors", [])}
        out += [f"{module}: HARMLESS entry '{k}' names no stored survivor"
                for k, why in harmless.get(module, {}).items()
                if k in keys and k not in survivors and not why.startswith("killed by")]
    return out


def reclassify(module: str, result: dict) -> dict:
    """``result`` with its stored survivors that ``EQUIVALENT`` now names moved to its
    equivalent list (their outcome, survived, is stored: only the judgement is new), and the
    count and score to match. Survivors a later test kills need a run (``--survivors``)."""
    notes = EQUIVALENT.get(module, {})
    keep = [s for s in result.get("survivors", []) if _key(s) not in notes]
    moved = [f"{s}: {notes[_key(s)]}" for s in result.get("survivors", []) if _key(s) in notes]
    if not moved:
        return result
    total = result["killed"] + len(keep)
    return {**result, "survived": len(keep), "survivors": keep,
            "equivalent": [*result.get("equivalent", []), *moved],
            "score": round(result["killed"] / total, 4) if total else None,
            "reclassified": len(moved) + result.get("reclassified", 0)}


def write_results(results: dict[str, dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "mutation.json"
    merged = json.loads(path.read_text()) if path.is_file() else {}
    merged.update(results)
    path.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    not_run = [m for m in MODULES if m not in merged]
    lines = ["# Mutation testing: surviving mutants", "",
             "Written by `python tools/mutate.py` (`make mutate`); see its docstring for the "
             "operators. Each module ran only the test files listed for it; score = killed / "
             "(killed + survived), equivalent mutants left out.", ""]
    if not_run:
        lines += [f"**Partial:** {len(merged)} of {len(MODULES)} modules have been run; the "
                  "others are listed under *Not run yet*.", ""]
    lines += ["| module | killed | survived | score | tests |", "| --- | --- | --- | --- | --- |"]
    for module, r in sorted(merged.items()):
        partial = " (first mutants only)" if r.get("partial") else ""
        lines.append(f"| `{module}`{partial} | {r['killed']} | {r['survived']} | {r['score']} | "
                     + ", ".join(f"`{t}`" for t in r.get("tests", [])) + " |")
    for package in ("spl_model/",):  # the aggregate target (>= 0.9)
        mine = [r for m, r in merged.items() if m.startswith(package)]
        k, s = sum(r["killed"] for r in mine), sum(r["survived"] for r in mine)
        if k + s:
            lines += ["", f"`{package}` together: {k} killed, {s} survived, score "
                          f"{round(k / (k + s), 4)}."]
    if not_run:
        lines += ["", "**Not run yet:** " + ", ".join(f"`{m}`" for m in not_run) + "."]
    for module, r in sorted(merged.items()):
        lines += ["", f"## `{module}`", ""]
        if r.get("command"):
            rerun = (" (the stored survivors run again after new tests; the other mutants "
                     "keep their outcome)" if r.get("survivors_rerun") else "")
            moved = (f" {r['reclassified']} survivor(s) judged equivalent after the run were "
                     "moved to the equivalent list by `--report` (outcomes unchanged)."
                     if r.get("reclassified") else "")
            lines += [f"Run with `{r['command']}`{rerun}.{moved}", ""]
        notes = HARMLESS.get(module, {})
        def note(k: str) -> str:
            if k not in notes:
                return ""
            return f": {notes[k]}" if notes[k].startswith("killed by") else \
                f": does not matter: {notes[k]}"

        lines += [f"- {s}" + note(s.split(" in `")[0]) for s in r.get("survivors", [])] \
            or ["No survivors."]
        if r.get("equivalent"):
            lines += ["", "Equivalent (checked by hand, left out of the score):", ""]
            lines += [f"- {s}" for s in r["equivalent"]]
    (RESULTS / "mutation.md").write_text("\n".join(lines) + "\n")


def run_listed(tree: Path, match: str | None = None) -> None:
    from tools.mutation_list import LISTED

    listed = [entry for entry in LISTED if match is None or match in entry[0]]

    rows = ["# Issue 13's hand-made mutations and the tests that kill them", "",
            "Written by `python tools/mutate.py --listed`: each mutation is applied alone to a "
            "copy of the tree and its tests run; **killed** means they failed.", "",
            "| # | where | mutation | tests | outcome |", "| --- | --- | --- | --- | --- |"]
    for n, (module, old, new, tests) in enumerate(listed, 1):
        path = tree / module
        original = path.read_text()
        if original.count(old) != 1:
            outcome = "does not apply (text not found once)"
        elif _run_tests(tree, tests, 600) != "passed":
            outcome = "the tests fail without the mutation"
        else:
            path.write_text(original.replace(old, new))
            try:
                outcome = {"failed": "killed", "timeout": "killed (timeout)",
                           "passed": "SURVIVED"}[_run_tests(tree, tests, 600)]
            finally:
                path.write_text(original)
        print(f"{n}. {module}: {outcome}", flush=True)
        shown_old, shown_new = " ".join(old.split()), " ".join(new.split())  # one table row
        rows.append(f"| {n} | `{module}` | `{shown_old}` -> `{shown_new}` | "
                    + "<br>".join(f"`{t}`" for t in tests) + f" | {outcome} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutation-listed.md").write_text("\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", action="append", help="a key of MODULES (repeatable); "
                        "default: all of them")
    parser.add_argument("--limit", type=int, help="only the first N mutants of each module")
    parser.add_argument("--listed", action="store_true", help="issue 13's mutations only")
    parser.add_argument("--match", help="with --listed: only the modules whose path has this")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--report", action="store_true",
                        help="rewrite mutation.{json,md} from the stored results and the current "
                             "notes (survivors now named EQUIVALENT move to the equivalent "
                             "list), run nothing")
    parser.add_argument("--check-notes", action="store_true",
                        help="list the EQUIVALENT/HARMLESS entries that match no mutant (or no "
                             "stored survivor), run nothing; exit 1 if there are any")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0))
                        if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                        help="mutants run at once, each in its own copy of the tree "
                             "(default: the cores this process may use)")
    parser.add_argument("--survivors", action="store_true",
                        help="run again only the stored survivors of each module (after new "
                             "tests; the module must be unchanged since its stored run)")
    args = parser.parse_args()
    modules = args.module or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        raise SystemExit(f"unknown modules {unknown}; choose from {list(MODULES)}")
    if args.report:
        path = RESULTS / "mutation.json"
        stored = json.loads(path.read_text()) if path.is_file() else {}
        write_results({m: reclassify(m, r) for m, r in stored.items()})
        return
    if args.check_notes:
        path = RESULTS / "mutation.json"
        stored = json.loads(path.read_text()) if path.is_file() else {}
        stale = [line for module in sorted(set(EQUIVALENT) | set(HARMLESS) | set(modules))
                 for line in stale_notes(module, (ROOT / module).read_text(), stored.get(module))]
        print("\n".join(stale) or "every note matches a mutant")
        raise SystemExit(1 if stale else 0)
    if args.list:
        for module in modules:
            for m in mutants((ROOT / module).read_text()):
                print(f"{module}:{m.line}: {m.what}")
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the copy is removed
    global _FORK
    _FORK = _preload()
    if args.jobs < 1:
        raise SystemExit(f"--jobs must be at least 1, got {args.jobs}")
    trees = [_copy_tree() for _ in range(1 if args.listed else args.jobs)]
    try:
        if args.listed:
            run_listed(trees[0], args.match)
            return
        stored = json.loads((RESULTS / "mutation.json").read_text()) \
            if args.survivors and (RESULTS / "mutation.json").is_file() else {}
        if args.survivors and not all(m in stored for m in modules):
            raise SystemExit("--survivors needs a stored result for every module asked for")
        for m in modules:  # each module's result is written as soon as it is done
            result = run_module(trees, m, MODULES[m], args.limit, stored.get(m))
            result["command"] = " ".join(["python tools/mutate.py", *sys.argv[1:]])
            write_results({m: result})
            for line in stale_notes(m, (ROOT / m).read_text(), result):
                print(f"warning: {line}", flush=True)
    finally:
        for tree in trees:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
