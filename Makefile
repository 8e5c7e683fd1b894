# Two commands: `make run` serves the demo, `make test` runs the tests. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: run test setup bench train-demo train-study personalize study active-sim clean chromium \
  mutate mutate-listed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) app.py

# Browser tests drive Debian's chromium (never `playwright install`: it downloads). Installed here
# when missing and we may (root); without it those tests skip and say why.
chromium:
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium could not be installed: browser tests will skip"

test: setup chromium
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/train_step.py
	$(PY) bench/app_latency.py
	$(PY) bench/active_query.py
	$(PY) bench/load.py --clients 1,2,4,8,16,32 --client both
	SPL_BENCH_FULL=1 $(PY) -m pytest -q tests/app/test_crash.py

# Mutation testing (tools/mutate.py): each module of MODULES there against the test files that
# cover it; survivors -> docs/results/mutation.md, counts -> docs/results/mutation.json. One
# mutant per core at a time (JOBS=n overrides); MODULES="spl_model/losses.py ..." runs a few.
# mutate-listed re-checks issue 13's hand-made mutations (docs/results/mutation-listed.md).
MODULES ?=
JOBS ?=
mutate: setup
	OMP_NUM_THREADS=1 $(PY) tools/mutate.py $(foreach m,$(MODULES),--module $(m)) \
		$(if $(JOBS),--jobs $(JOBS))

mutate-listed: setup
	OMP_NUM_THREADS=1 $(PY) tools/mutate.py --listed

clean:
	rm -rf $(VENV) .pytest_cache

# The demo's checkpoints: the population world (6,000 distinct users with signed, correlated
# weights over six style attributes, docs/results/personalize.md) -> embed -> SPL, VPL, BTL
# (+ oracle for the report) -> the confidence calibrators -> assets/. Every step is resumable;
# re-running skips what is finished. SPL and VPL get the same fixes (12 epochs, several target
# pairs per context, the context's own answers scored too, sum pooling, the evidence path to the
# posterior mean, a linear latent head, wider posterior bounds, beta = 1e-3, a reward linear in
# the response) so the side-by-side stays fair; docs/results/personalize.md has the ablations.
# The oracle keeps the MLP decoder (with a linear one its true features would cancel in every
# comparison).
DEMO_DATA := datasets/population
DEMO_DATA_ARGS := --world population
DEMO_CACHE := cache
DEMO_RUNS := runs/demo
DEMO_MODEL := --latent-dim 16 --hidden-dim 256 --beta 1e-3 --guide-weight 1e-2 \
  --mean-bound 3 --logvar-min -6 --pooling sum --latent-head true --evidence-mean true
DEMO_LINEAR := --linear-reward true
DEMO_FIT := --epochs 12 --lr 2e-3 --eval-every 500 --batch-size 64 --targets-per-context 8 \
  --context-targets true
# the previous demo's recipe, which the ablations of docs/results/personalize.md start from
DEMO_FIT_BASE := --epochs 6 --lr 2e-3 --eval-every 500 --batch-size 64 --targets-per-context 8
DEMO_PACK := --pairs 10 --prompts 6 --candidates 5

train-demo: setup
	test -f $(DEMO_DATA)/dataset.json || \
	  $(PY) -m train data synthetic $(DEMO_DATA_ARGS) --out $(DEMO_DATA)
	$(PY) -m train embed --data $(DEMO_DATA) --cache $(DEMO_CACHE)
	for kind in spl vpl btl oracle; do \
	  test -f $(DEMO_RUNS)/$$kind/report.json || \
	  $(PY) -m train fit --data $(DEMO_DATA) --cache $(DEMO_CACHE) --model $$kind \
	    $(DEMO_MODEL) $$(test $$kind = oracle || echo $(DEMO_LINEAR)) $(DEMO_FIT) \
	    --out $(DEMO_RUNS)/$$kind || exit 1; \
	done
	for kind in spl vpl; do \
	  test -f $(DEMO_RUNS)/$$kind/calibration.json || \
	  $(PY) -m train calibrate --run $(DEMO_RUNS)/$$kind --data $(DEMO_DATA) --cache $(DEMO_CACHE) || exit 1; \
	done
	rm -rf assets/runs && mkdir -p assets/runs/oracle
	for kind in spl vpl btl; do \
	  mkdir -p assets/runs/$$kind && \
	  cp -r $(DEMO_RUNS)/$$kind/model.safetensors $(DEMO_RUNS)/$$kind/config.json \
	    $(DEMO_RUNS)/$$kind/report.json $(DEMO_RUNS)/$$kind/history.json $(DEMO_RUNS)/$$kind/plots \
	    assets/runs/$$kind/ && \
	  (test ! -f $(DEMO_RUNS)/$$kind/latent_map.json || cp $(DEMO_RUNS)/$$kind/latent_map.json assets/runs/$$kind/) && \
	  (test ! -f $(DEMO_RUNS)/$$kind/calibration.json || cp $(DEMO_RUNS)/$$kind/calibration.json assets/runs/$$kind/); \
	done
	cp -r $(DEMO_RUNS)/oracle/report.json $(DEMO_RUNS)/oracle/plots assets/runs/oracle/
	$(PY) -m app.demo_pack --data $(DEMO_DATA) --out assets/ $(DEMO_PACK)

# Issue #14's report (after train-demo): few-shot curves of the demo models beside the Bayes
# ceiling, the low-rank baseline and the oracle, the confidence's calibration, active order,
# and the two scripted visitors of bench/persona_check.py -> docs/results/.
ABLATE := runs/ablate
ABLATE_BASE := --latent-dim 16 --hidden-dim 256 --beta 1e-3 --guide-weight 1e-2 --mean-bound 3 \
  --logvar-min -6 --eval-every 500 --batch-size 64
personalize: setup
	for kind in spl vpl; do \
	  test -f $(ABLATE)/$$kind-no-ctx/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	    --cache $(DEMO_CACHE) --model $$kind $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) \
	    --out $(ABLATE)/$$kind-no-ctx || exit 1; \
	  test -f $(ABLATE)/$$kind-ctx-6ep/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	    --cache $(DEMO_CACHE) --model $$kind $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) \
	    --context-targets true --out $(ABLATE)/$$kind-ctx-6ep || exit 1; \
	done
	test -f $(ABLATE)/spl-ctx-6ep-noflow/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) \
	  --context-targets true --n-flows 0 --out $(ABLATE)/spl-ctx-6ep-noflow
	test -f $(ABLATE)/spl-wide/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(ABLATE_BASE) --epochs 3 --lr 1e-3 \
	  --targets-per-context 8 --out $(ABLATE)/spl-wide
	test -f $(ABLATE)/spl-sh/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(ABLATE_BASE) --epochs 3 --lr 1e-3 \
	  --targets-per-context 8 --pooling sum --latent-head true --out $(ABLATE)/spl-sh
	test -f $(ABLATE)/spl-ev/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(ABLATE_BASE) --epochs 3 --lr 1e-3 \
	  --targets-per-context 8 --pooling sum --latent-head true --evidence-mean true --out $(ABLATE)/spl-ev
	test -f $(ABLATE)/spl-ev6-t1/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(ABLATE_BASE) --epochs 6 --lr 2e-3 \
	  --pooling sum --latent-head true --evidence-mean true --out $(ABLATE)/spl-ev6-t1
	for kind in spl vpl; do \
	  test -f $(ABLATE)/$$kind-answers/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	    --cache $(DEMO_CACHE) --model $$kind $(DEMO_MODEL) $(DEMO_FIT_BASE) --answer-targets true \
	    --out $(ABLATE)/$$kind-answers || exit 1; \
	done
	test -f $(ABLATE)/spl-answers-dropout/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_FIT_BASE) --answer-targets true \
	  --input-dropout 0.3 --out $(ABLATE)/spl-answers-dropout
	test -f $(ABLATE)/spl-answers-wd1/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_FIT_BASE) --answer-targets true \
	  --weight-decay 1.0 --out $(ABLATE)/spl-answers-wd1
	for kind in spl vpl btl; do \
	  test -f $(ABLATE)/$$kind-mlp/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	    --cache $(DEMO_CACHE) --model $$kind $(DEMO_MODEL) $(DEMO_FIT_BASE) --out $(ABLATE)/$$kind-mlp || exit 1; \
	done
	test -f $(ABLATE)/spl-lin-answers/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) \
	  --answer-targets true --out $(ABLATE)/spl-lin-answers
	test -f $(ABLATE)/spl-lin-12ep/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) --epochs 12 \
	  --out $(ABLATE)/spl-lin-12ep
	test -f $(ABLATE)/spl-lin-h64/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) --hidden-dim 64 \
	  --out $(ABLATE)/spl-lin-h64
	test -f $(ABLATE)/spl-lin-nofilm/report.json || $(PY) -m train fit --data $(DEMO_DATA) \
	  --cache $(DEMO_CACHE) --model spl $(DEMO_MODEL) $(DEMO_LINEAR) $(DEMO_FIT_BASE) --film false \
	  --out $(ABLATE)/spl-lin-nofilm
	$(PY) -m train personalize --data $(DEMO_DATA) --cache $(DEMO_CACHE) \
	  --run spl=$(DEMO_RUNS)/spl --run vpl=$(DEMO_RUNS)/vpl --run btl=$(DEMO_RUNS)/btl \
	  --run oracle=$(DEMO_RUNS)/oracle --run spl-no-context-targets=$(ABLATE)/spl-no-ctx \
	  --run vpl-no-context-targets=$(ABLATE)/vpl-no-ctx --run spl-6ep=$(ABLATE)/spl-ctx-6ep \
	  --run vpl-6ep=$(ABLATE)/vpl-ctx-6ep --run spl-6ep-no-flow=$(ABLATE)/spl-ctx-6ep-noflow \
	  --run spl-wide-3ep=$(ABLATE)/spl-wide \
	  --run spl-sum-head-3ep=$(ABLATE)/spl-sh --run spl-evidence-3ep=$(ABLATE)/spl-ev \
	  --run spl-1-target=$(ABLATE)/spl-ev6-t1 --run spl+answers=$(ABLATE)/spl-answers \
	  --run vpl+answers=$(ABLATE)/vpl-answers --run spl+answers+dropout=$(ABLATE)/spl-answers-dropout \
	  --run spl+answers+wd1=$(ABLATE)/spl-answers-wd1 --run spl-mlp=$(ABLATE)/spl-mlp \
	  --run vpl-mlp=$(ABLATE)/vpl-mlp --run btl-mlp=$(ABLATE)/btl-mlp \
	  --run spl+answers-linear=$(ABLATE)/spl-lin-answers --run spl-12ep=$(ABLATE)/spl-lin-12ep \
	  --run spl-h64=$(ABLATE)/spl-lin-h64 --run spl-no-film=$(ABLATE)/spl-lin-nofilm \
	  --refine spl --refine vpl \
	  --calibration $(DEMO_RUNS)/spl/calibration.json --out docs/results/personalize
	$(PY) bench/persona_check.py --out docs/results/persona_check.json
	$(PY) bench/backbone_gap.py --data $(DEMO_DATA) --cache $(DEMO_CACHE) --out docs/results/backbone_gap.json

# Issue #6's simulated participants on the previous demo (the four-type world, before the
# population world of issue #14): active vs random order, into docs/results/. It needs that
# world's runs (TYPES_DEMO_DATA below, fitted with the old flags into runs/demo-types/); the
# population world's active order is measured by `make personalize` instead.
TYPES_DEMO_DATA := datasets/synthetic-demo
SIM := $(PY) bench/active_simulation.py --run runs/demo-types/spl --seen-per-type 25 --unseen 100
active-sim: setup
	$(SIM) --method bald --name active
	$(SIM) --method lookahead --name active_lookahead
	$(SIM) --method bald --first random --name active_app
	$(SIM) --method bald --pool-source rows --name active_rows
	$(SIM) --method lookahead --pool-source rows --name active_rows_lookahead
	test -f runs/demo-beta1e-3/spl/report.json || \
	  $(PY) -m train fit --data $(TYPES_DEMO_DATA) --cache $(DEMO_CACHE) --model spl \
	    --latent-dim 16 --hidden-dim 256 --beta 1e-3 --guide-weight 1e-2 \
	    --epochs 6 --lr 1e-3 --eval-every 500 --batch-size 64 --out runs/demo-beta1e-3/spl
	$(SIM) --run runs/demo-beta1e-3/spl --method bald --name active_b3
	$(SIM) --run runs/demo-beta1e-3/spl --method lookahead --name active_b3_lookahead
	$(SIM) --run runs/demo-beta1e-3/spl --method bald --pool-source rows --name active_b3_rows
	$(SIM) --run runs/demo-beta1e-3/spl --method lookahead --pool-source rows \
	  --name active_b3_rows_lookahead
	$(PY) bench/active_simulation.py --name active --render-only

# The posterior-collapse study (python -m train study) on synthetic and pets with the default
# grid (150 cells each, 2 processes); the tables and plots land in docs/results/study/.
STUDY_RUNS := runs/study
study: setup
	test -f datasets/synthetic/dataset.json || $(PY) -m train data synthetic --out datasets/synthetic
	test -f datasets/pets/dataset.json || $(PY) -m train data pets --out datasets/pets
	$(PY) -m train embed --data datasets/synthetic --data datasets/pets --cache $(DEMO_CACHE)
	for name in synthetic pets; do \
	  $(PY) -m train study --data datasets/$$name --cache $(DEMO_CACHE) --out $(STUDY_RUNS)/$$name \
	    --jobs 2 || exit 1; \
	  rm -rf docs/results/study/$$name && mkdir -p docs/results/study/$$name && \
	  cp -r $(STUDY_RUNS)/$$name/study.md $(STUDY_RUNS)/$$name/study.json $(STUDY_RUNS)/$$name/plots \
	    docs/results/study/$$name/; \
	done

# A study's labels -> SPL, VPL and BTL trained on them (README: "Run a study, then train on it").
# EXPORT: the app's label export (labels.jsonl / labels.csv / trl.jsonl); without it the labels
# are exported first from DB (default: SPL_DB, /data/spl.db or data/spl.db, like the app).
# Each participant becomes a user whose own answers are their context; a share of each one's
# answers is held out. Serve the result with: SPL_RUNS=$(STUDY_OUT) make run
STUDY_OUT ?= runs/my-study
STUDY_IMPORT ?= --test-fraction 0.2 --min-context 1 --max-context 8
STUDY_MODEL ?= --latent-dim 8 --hidden-dim 64 --beta 1e-3 --guide-weight 1e-2
STUDY_FIT ?= --epochs 20 --lr 1e-3 --batch-size 32 --eval-every 50
train-study: setup
	@if [ -z "$(EXPORT)" ]; then \
	  mkdir -p $(STUDY_OUT) && \
	  $(PY) -m app.admin export $(if $(DB),--db $(DB)) --format jsonl --out $(STUDY_OUT)/labels.jsonl || exit 1; \
	fi
	$(PY) -m train data import $(or $(EXPORT),$(STUDY_OUT)/labels.jsonl) --format study \
	  $(STUDY_IMPORT) --out $(STUDY_OUT)/data --overwrite
	$(PY) -m train embed --data $(STUDY_OUT)/data --cache $(DEMO_CACHE)
	for kind in spl vpl btl; do \
	  $(PY) -m train fit --data $(STUDY_OUT)/data --cache $(DEMO_CACHE) --model $$kind \
	    $(STUDY_MODEL) $(STUDY_FIT) --out $(STUDY_OUT)/$$kind --overwrite --quiet || exit 1; \
	done
	@echo "Trained $(STUDY_OUT)/{spl,vpl,btl}. Serve them: SPL_RUNS=$(STUDY_OUT) make run"
