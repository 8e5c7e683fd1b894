# Two commands: `make run` serves the demo, `make test` runs the tests. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: run test setup bench train-demo study active-sim clean chromium mutate mutate-listed

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
# cover it; survivors -> docs/results/mutation.md, counts -> docs/results/mutation.json. Close to
# an hour on 2 cores for every module; MODULES="spl_model/losses.py ..." runs a few.
# mutate-listed re-checks issue 13's hand-made mutations (docs/results/mutation-listed.md).
MODULES ?=
mutate: setup
	OMP_NUM_THREADS=1 $(PY) tools/mutate.py $(foreach m,$(MODULES),--module $(m))

mutate-listed: setup
	OMP_NUM_THREADS=1 $(PY) tools/mutate.py --listed

clean:
	rm -rf $(VENV) .pytest_cache

# The demo's checkpoints: synthetic data -> embed -> SPL, VPL, BTL (+ oracle for the report)
# -> assets/. Every step is resumable; re-running skips what is finished.
# The demo data is the synthetic set with contexts drawn from 2,000 survey pairs of any kind,
# 1-8 answers that need not settle the type, and 40,000 rows: an encoder trained on the default
# 16 survey pairs memorises them and barely reads the answers to other pairs, as the app's are
# (docs/results/active.md). The study keeps the default data (datasets/synthetic).
DEMO_DATA := datasets/synthetic-demo
DEMO_DATA_ARGS := --pool-size 2000 --survey-pairs any --identifying-contexts false \
  --min-context 1 --train-rows 40000
DEMO_CACHE := cache
DEMO_RUNS := runs/demo
DEMO_MODEL := --latent-dim 16 --hidden-dim 256 --beta 1 --guide-weight 1e-2
DEMO_FIT := --epochs 6 --lr 1e-3 --eval-every 500 --batch-size 64

train-demo: setup
	test -f $(DEMO_DATA)/dataset.json || \
	  $(PY) -m train data synthetic $(DEMO_DATA_ARGS) --out $(DEMO_DATA)
	$(PY) -m train embed --data $(DEMO_DATA) --cache $(DEMO_CACHE)
	for kind in spl vpl btl oracle; do \
	  test -f $(DEMO_RUNS)/$$kind/report.json || \
	  $(PY) -m train fit --data $(DEMO_DATA) --cache $(DEMO_CACHE) --model $$kind \
	    $(DEMO_MODEL) $(DEMO_FIT) --out $(DEMO_RUNS)/$$kind || exit 1; \
	done
	rm -rf assets/runs && mkdir -p assets/runs/oracle
	for kind in spl vpl btl; do \
	  mkdir -p assets/runs/$$kind && \
	  cp -r $(DEMO_RUNS)/$$kind/model.safetensors $(DEMO_RUNS)/$$kind/config.json \
	    $(DEMO_RUNS)/$$kind/report.json $(DEMO_RUNS)/$$kind/history.json $(DEMO_RUNS)/$$kind/plots \
	    assets/runs/$$kind/ && \
	  (test ! -f $(DEMO_RUNS)/$$kind/latent_map.json || cp $(DEMO_RUNS)/$$kind/latent_map.json assets/runs/$$kind/); \
	done
	cp -r $(DEMO_RUNS)/oracle/report.json $(DEMO_RUNS)/oracle/plots assets/runs/oracle/
	$(PY) -m app.demo_pack --data $(DEMO_DATA) --out assets/

# Issue #6's simulated participants on the demo model (after train-demo) and on the same fit
# at beta = 1e-3: active vs random order, into docs/results/ (active.md tabulates them all).
SIM := $(PY) bench/active_simulation.py --seen-per-type 25 --unseen 100
active-sim: setup
	$(SIM) --method bald --name active
	$(SIM) --method lookahead --name active_lookahead
	$(SIM) --method bald --first random --name active_app
	$(SIM) --method bald --pool-source rows --name active_rows
	$(SIM) --method lookahead --pool-source rows --name active_rows_lookahead
	test -f runs/demo-beta1e-3/spl/report.json || \
	  $(PY) -m train fit --data $(DEMO_DATA) --cache $(DEMO_CACHE) --model spl \
	    --latent-dim 16 --hidden-dim 256 --beta 1e-3 --guide-weight 1e-2 $(DEMO_FIT) \
	    --out runs/demo-beta1e-3/spl
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
