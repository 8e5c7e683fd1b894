#!/usr/bin/env bash
# The paper's UF-P-4 setting on a GPU: VPL vs SPL (plus BTL and IAF-VPL) on a 4-bit Llama.
#
#   1. data   python -m train data uf-p    UF-P-4 from the two UltraFeedback datasets
#   2. embed  python -m train embed        every unique text once, 4-bit Llama -> fp16 cache
#   3. study  accelerate launch -m train study   the grid of fits on the cached embeddings
#
# Every setting below is an environment variable; the defaults are the paper's hyperparameters
# (SPL.md section 8). One difference: the study trains on frozen cached embeddings, where the
# paper re-embeds target pairs through LoRA. docs/gpu.md has the install steps, the gated-model
# download (run it first: nothing here downloads a model), multi-GPU use, and memory and time
# estimates. Examples, from the repository root:
#
#   bash train/recipes/ufp4_llama.sh                                  # Llama-3.1-8B, 1 GPU
#   MODEL=meta-llama/Llama-3.2-3B-Instruct OUT=runs/ufp4-llama3b bash train/recipes/ufp4_llama.sh
#   NUM_PROCESSES=4 ABLATIONS=1 bash train/recipes/ufp4_llama.sh      # 4 GPUs, with ablations
#   DRY_RUN=1 bash train/recipes/ufp4_llama.sh                        # print the plan only
#
# Re-running is safe and cheap: the data folder is kept (and checked against the settings),
# the embedding cache only embeds what it lacks, and the study skips finished cells, so an
# interrupted run continues where it stopped. Relative paths are relative to where you run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # `python -m train` from any directory

# --- where things go --------------------------------------------------------------------------
if [[ -x "$ROOT/.venv/bin/python" ]]; then DEFAULT_PYTHON="$ROOT/.venv/bin/python"; else DEFAULT_PYTHON=python3; fi
PYTHON=${PYTHON:-$DEFAULT_PYTHON}           # interpreter with requirements.txt installed
DATA=${DATA:-datasets/uf-p-4}               # dataset folder (built once)
CACHE=${CACHE:-cache}                       # embedding cache root (one sub-folder per backbone)
OUT=${OUT:-runs/ufp4-llama}                 # study folder: cells/, study.json, study.md, plots/

# --- 1. data: UF-P-4 (SPL.md section 7) -------------------------------------------------------
BINARIZED=${BINARIZED:-argilla/ultrafeedback-binarized-preferences-cleaned}  # Hub id or local file/folder
FINE_GRAINED=${FINE_GRAINED:-openbmb/UltraFeedback}                         # Hub id or local file/folder
USERS=${USERS:-4}                           # 4 = UF-P-4 (2..8 context pairs); 2 = UF-P-2
POOL_SIZE=${POOL_SIZE:-16}                  # survey pairs per user type
TEST_FRACTION=${TEST_FRACTION:-0.1}         # 90/10 train/test split by prompt
MAX_PAIRS=${MAX_PAIRS:-0}                   # keep at most this many pairs (0 = all)
DATA_SEED=${DATA_SEED:-0}                   # the dataset is a function of this seed

# --- 2. embed: frozen backbone, last-token pooling (SPL.md section 1) --------------------------
MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}  # Hub id in the local HF cache, or a folder
QUANTIZE=${QUANTIZE:-4bit}                  # 4bit = nf4 + double quant, bf16 compute; 8bit; none
MAX_LENGTH=${MAX_LENGTH:-1024}              # tokens kept per text (the release's 1024)
DEVICE=${DEVICE:-}                          # cuda or cpu; empty = cuda when available
EMBED_BATCH=${EMBED_BATCH:-16}              # texts per forward pass (lower it on an OOM)

# --- 3. study: the paper's hyperparameters (SPL.md section 8) ----------------------------------
VARIANTS=${VARIANTS:-btl,vpl,ivpl,spl}      # BTL, VPL, IAF-VPL, SPL
ABLATIONS=${ABLATIONS:-0}                   # 1 = also spl-noguide, spl-nosplit, spl-nofilm
SEEDS=${SEEDS:-31,32,33}                    # the paper's seed 31, plus two for intervals
BETAS=${BETAS:-3e-6}                        # KL weight beta (UF)
EPOCHS=${EPOCHS:-2}
LATENT=${LATENT:-1024}                      # Z
HIDDEN=${HIDDEN:-1024}                      # H of every MLP
FLOWS=${FLOWS:-2}                           # K flow layers (spl, ivpl)
LR=${LR:-1e-4}                              # AdamW, weight decay 1e-3, cosine, 3% warm-up (FitConfig)
BATCH=${BATCH:-64}                          # effective batch (users per step, all processes together)
GUIDE=${GUIDE:-1e-5}                        # lambda of the swap-guided loss
TRAIN_ROWS=${TRAIN_ROWS:-0}                 # 0 = all training rows
TITLE=${TITLE:-}                            # title of study.md (default: the study's own)
QUIET=${QUIET:-0}                           # 1 = no progress bars in the study

# --- accelerate --------------------------------------------------------------------------------
NUM_PROCESSES=${NUM_PROCESSES:-1}           # GPUs (one process each); every cell is data-parallel;
                                            # keep it fixed within one OUT (it sets the per-process batch)
MIXED_PRECISION=${MIXED_PRECISION:-no}      # bf16 autocast made the SPL step slower (docs/gpu.md)
ACCELERATE_CONFIG=${ACCELERATE_CONFIG:-}    # optional `accelerate config` file
ACCELERATE_ARGS=${ACCELERATE_ARGS:-}        # extra launch flags, e.g. "--main_process_port 29501"
STEPS=${STEPS:-data embed study}            # which steps to run, e.g. STEPS=study
DRY_RUN=${DRY_RUN:-0}                       # 1 = print the plan and stop

die() { echo "ufp4_llama.sh: $*" >&2; exit 1; }

[[ "$NUM_PROCESSES" =~ ^[1-9][0-9]*$ ]] || die "NUM_PROCESSES=$NUM_PROCESSES is not a positive integer."
# fit gives every process --batch-size rows of each step: split the effective batch over them.
(( BATCH % NUM_PROCESSES == 0 )) || die "BATCH=$BATCH is not divisible by NUM_PROCESSES=$NUM_PROCESSES."
PER_PROCESS_BATCH=$(( BATCH / NUM_PROCESSES ))
if [[ "$DEVICE" == cpu ]] && (( NUM_PROCESSES > 1 )); then
  die "DEVICE=cpu runs one process (accelerate launch --cpu); use NUM_PROCESSES=1."
fi
for step in $STEPS; do
  [[ "$step" == data || "$step" == embed || "$step" == study ]] || die "STEPS has '$step'; use data, embed and/or study."
done
wants() { [[ " $STEPS " == *" $1 "* ]]; }
if [[ "$ABLATIONS" == 1 ]]; then VARIANTS="$VARIANTS,spl-noguide,spl-nosplit,spl-nofilm"; fi

backbone=(--backbone "$MODEL" --quantize "$QUANTIZE" --max-length "$MAX_LENGTH")
if [[ -n "$DEVICE" ]]; then backbone+=(--device "$DEVICE"); fi

data_cmd=("$PYTHON" -m train data uf-p --out "$DATA" --users "$USERS" --pool-size "$POOL_SIZE"
          --test-fraction "$TEST_FRACTION" --max-pairs "$MAX_PAIRS" --seed "$DATA_SEED"
          --binarized "$BINARIZED" --fine-grained "$FINE_GRAINED")
embed_cmd=("$PYTHON" -m train embed --data "$DATA" --cache "$CACHE" "${backbone[@]}"
           --batch-size "$EMBED_BATCH")

launch=(--num_processes "$NUM_PROCESSES" --num_machines 1 --mixed_precision "$MIXED_PRECISION"
        --dynamo_backend no)
if [[ -n "$ACCELERATE_CONFIG" ]]; then launch=(--config_file "$ACCELERATE_CONFIG" "${launch[@]}"); fi
if [[ "$DEVICE" == cpu ]]; then launch+=(--cpu); elif (( NUM_PROCESSES > 1 )); then launch+=(--multi_gpu); fi
read -r -a extra <<< "$ACCELERATE_ARGS"
launch+=("${extra[@]}")
study_cmd=("$PYTHON" -m accelerate.commands.launch "${launch[@]}" -m train study
           --data "$DATA" --cache "$CACHE" "${backbone[@]}" --out "$OUT"
           --variants "$VARIANTS" --betas "$BETAS" --capacities "paper=$HIDDEN" --seeds "$SEEDS"
           --latent-dim "$LATENT" --n-flows "$FLOWS" --guide-weight "$GUIDE" --epochs "$EPOCHS"
           --lr "$LR" --batch-size "$PER_PROCESS_BATCH" --train-rows "$TRAIN_ROWS" --jobs 1)
if [[ -n "$TITLE" ]]; then study_cmd+=(--title "$TITLE"); fi
if [[ "$QUIET" == 1 ]]; then study_cmd+=(--quiet); fi

# print a command so that it can be pasted back into a shell (quotes only where needed)
show() {
  local arg out="  "
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+="$arg "; else out+="'${arg//\'/\'\\\'\'}' "; fi
  done
  echo "$out"
}

# --- the plan, printed before anything runs ----------------------------------------------------
echo "UF-P-$USERS, $MODEL ($QUANTIZE, max_length $MAX_LENGTH): ${VARIANTS//,/ } x beta $BETAS x seeds $SEEDS"
echo "Z=$LATENT H=$HIDDEN K=$FLOWS lr=$LR batch=$BATCH ($NUM_PROCESSES process(es) x $PER_PROCESS_BATCH)" \
     "lambda=$GUIDE epochs=$EPOCHS"
echo "Steps: $STEPS"
echo "1. data   (skipped when $DATA/dataset.json exists)"
show "${data_cmd[@]}"
echo "2. embed  (embeds only what $CACHE lacks)"
show "${embed_cmd[@]}"
echo "3. study  (skips finished cells in $OUT/cells)"
show "${study_cmd[@]}"
if [[ "$DRY_RUN" == 1 ]]; then exit 0; fi

# --- preflight: the backbone must be local (this project never downloads a model at run time) --
if { wants embed || wants study; } && [[ ! -d "$MODEL" ]]; then
  missing="$MODEL is not in the local Hugging Face cache. For a gated Llama, accept its license
on huggingface.co, then: hf auth login && hf download $MODEL --exclude 'original/*' (docs/gpu.md)."
  MODEL="$MODEL" "$PYTHON" - <<'EOF' || die "$missing"
import os, sys
from huggingface_hub import try_to_load_from_cache
sys.exit(0 if isinstance(try_to_load_from_cache(os.environ["MODEL"], "config.json"), str) else 1)
EOF
fi

# --- 1. data -------------------------------------------------------------------------------------
if wants data && [[ -f "$DATA/dataset.json" ]]; then
  # a kept folder must have been built with these settings, or the study would mix datasets
  other="$DATA was built with other settings: set DATA to a new folder, or delete it to rebuild."
  DATA="$DATA" USERS="$USERS" POOL_SIZE="$POOL_SIZE" TEST_FRACTION="$TEST_FRACTION" \
  MAX_PAIRS="$MAX_PAIRS" DATA_SEED="$DATA_SEED" "$PYTHON" - <<'EOF' || die "$other"
import json, os, sys
built = json.load(open(os.path.join(os.environ["DATA"], "dataset.json"))).get("builder_args", {})
want = {"users": int(os.environ["USERS"]), "pool_size": int(os.environ["POOL_SIZE"]),
        "test_fraction": float(os.environ["TEST_FRACTION"]),
        "max_pairs": int(os.environ["MAX_PAIRS"]), "seed": int(os.environ["DATA_SEED"])}
differ = [f"{k}={built.get(k)} (wanted {v})" for k, v in want.items() if built.get(k) != v]
if differ:
    print("builder_args: " + ", ".join(differ), file=sys.stderr)
sys.exit(1 if differ else 0)
EOF
  echo "1. data: $DATA exists with these settings, skipped"
elif wants data; then
  "${data_cmd[@]}"
fi

# --- 2. embed ----------------------------------------------------------------------------------
if wants embed; then "${embed_cmd[@]}"; fi

# --- 3. study ----------------------------------------------------------------------------------
if wants study; then
  "${study_cmd[@]}"
  echo "Done: $OUT/study.md"
fi
