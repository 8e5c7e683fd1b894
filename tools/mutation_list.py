"""Issue 13's hand-made mutations that once survived the suite, each with the tests that must
now kill it: ``(module, exact old text, new text, pytest node ids)``.

Run them with ``python tools/mutate.py --listed``. The old text must occur exactly once in the
module; when the code moves on, update the entry rather than dropping it.
"""

from __future__ import annotations

__all__ = ["LISTED"]

_NUMBERS = "tests/spl_model/test_exact_numbers.py"
_EVAL = "tests/train/test_evaluate_numbers.py"
_RESUME = "tests/train/test_fit_resume.py"
_APP = "tests/app/test_app_numbers.py"

LISTED: list[tuple[str, str, str, list[str]]] = [
    ("spl_model/models.py", "kl = free_nats_kl(kl, self.cfg.free_nats)",
     "kl = free_nats_kl(kl, 0.0)",
     [f"{_NUMBERS}::test_free_nats_remove_the_kl_gradient_but_not_its_value"]),
    ("spl_model/models.py", "z0 = mean + torch.exp(logvar / 2) * torch.randn_like(mean)  # [B, n, Z]",
     "z0 = mean + torch.exp(logvar) * torch.randn_like(mean)  # [B, n, Z]",
     [f"{_NUMBERS}::test_sample_z_spread_is_the_posterior_standard_deviation"]),
    ("spl_model/encoders.py", "self.scale = 1.0 / math.sqrt(latent_dim)",
     "self.scale = 1.0 / latent_dim",
     [f"{_NUMBERS}::test_set_encoder_attention_is_scaled_by_one_over_sqrt_z"]),
    ("spl_model/decoders.py", "return 1 + 0.5 * torch.tanh(raw_gamma)",
     "return 1 + 0.25 * torch.tanh(raw_gamma)",
     [f"{_NUMBERS}::test_film_gamma_is_one_plus_half_tanh_and_spans_half_to_three_halves"]),
    ("spl_model/active.py", "z = point + spread * (z - point)", "z = point + 1.0 * (z - point)",
     [f"{_NUMBERS}::test_select_query_spread_tempers_samples_around_the_point_latent"]),
    ("train/evaluate.py", '"accuracy_controversial": accuracy(margins[split.controversial])',
     '"accuracy_controversial": accuracy(margins[~split.controversial])',
     [f"{_EVAL}::test_every_report_number_matches_a_row_by_row_computation"]),
    ("train/evaluate.py", "au = active_units(au_vectors, model.cfg.au_threshold)",
     "au = active_units(latents, model.cfg.au_threshold)",
     [f"{_EVAL}::test_every_report_number_matches_a_row_by_row_computation"]),
    ("train/evaluate.py", "    model.train()  # sample eps", "    model.eval()  # sample eps",
     [f"{_EVAL}::test_kl_is_the_one_sample_estimate_in_training_mode_with_seed_zero"]),
    ("train/batching.py", "ctx_c, ctx_r = ctx_r, ctx_c", "ctx_c, ctx_r = ctx_c, ctx_r",
     [f"{_EVAL}::test_every_report_number_matches_a_row_by_row_computation",
      f"{_EVAL}::test_batch_swap_and_max_context_by_hand"]),
    ("train/batching.py",
     "ctx_c, ctx_r, mask = ctx_c[:, :max_context], ctx_r[:, :max_context], mask[:, :max_context]",
     "pass",
     [f"{_EVAL}::test_every_report_number_matches_a_row_by_row_computation",
      f"{_EVAL}::test_batch_swap_and_max_context_by_hand"]),
    ("train/fit.py", "fit_cfg.seed, epoch)[offset:]:", "fit_cfg.seed, epoch):",
     [f"{_RESUME}::test_a_run_resumed_mid_epoch_ends_where_a_straight_run_ends"]),
    ("train/resume.py", "    if json.dumps(progress[\"settings\"]",
     "    if False and json.dumps(progress[\"settings\"]",
     [f"{_RESUME}::test_resuming_with_other_settings_is_refused"]),
    ("train/resume.py", 'return progress["step"], progress["history"], progress["seconds"]',
     'return progress["step"], [], progress["seconds"]',
     [f"{_RESUME}::test_a_run_resumed_mid_epoch_ends_where_a_straight_run_ends"]),
    ("train/fit.py", "params += list(tuned_backbone.trainable_parameters())", "pass",
     ["tests/train/test_fit_lora.py"]),
    ("train/fit.py", "batch = _retarget(batch, tuned_backbone, data.texts, train, rows)", "pass",
     ["tests/train/test_fit_lora.py"]),
    ("app/service.py", "return int(choice.best[0])", "return 0",
     [f"{_APP}::test_select_pair_is_the_selectors_best_pair"]),
    # the stop suggestion now reads the look-ahead stability (issue 14), not the confidence
    ("app/handlers.py", "and stability.get(main, 0.0) >= STOP_AT)}", "and False)}",
     [f"{_APP}::test_stop_is_suggested_once_the_main_models_stability_reaches_stop_at"]),
    ("app/handlers.py",
     'service.stability(person, [i for i in service.items if i["pair_id"] not in answered])',
     "service.stability(person, list(service.items))",
     [f"{_APP}::test_the_stability_pool_is_the_unanswered_pairs"]),
    ("app/store.py",
     'raise StoreError("The database is busy or unavailable; try again in a moment.") \\\n'
     "                from exc",
     "raise",
     [f"{_APP}::test_a_busy_database_is_a_plain_store_error"]),
    ("app/store_backup.py", 'if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":',
     "if False:",
     [f"{_APP}::test_restore_refuses_a_backup_that_fails_the_integrity_check"]),
    # hollow tests made to check what their names say
    ("spl_model/models.py",
     "eps = torch.randn_like(mean) if self.training else torch.zeros_like(mean)",
     "eps = torch.randn_like(mean) if self.training else torch.full_like(mean, 0.1)",
     ["tests/spl_model/test_models.py::test_eval_z_is_the_mean_pushed_through_the_flow"]),
]
