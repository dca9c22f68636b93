#!/usr/bin/env bash
# Reproduces the shipped recognizer data/models/codes_recognizer.{pth,json} from scratch: the seed's
# TPS-ResNet-BiLSTM-Attn (narrowed to 128 channels, case-sensitive 94 characters) trained on the endless
# generated code-crop stream in five phases, then the average of the last phase's checkpoints packed in half precision
# and scored on a held-out generated set (another seed).
#   1. configs/ocr_pretrain_encoder.json: the same Transformation-FeatureExtraction-SequenceModeling
#      under a CTC head. CTC needs no alignment to be learnt, so the encoder learns to read quickly.
#   2. configs/ocr_pretrain.json: TPS and the attention decoder on top (--FT from phase 1; the CTC layer
#      is not in the Attn model and is left behind; TPS starts as the identity and learns at 5 % of the
#      rate, as under Adam at the full rate its grid degenerates). From random weights this architecture
#      did not read after 2,800 iterations on this stream (data/models/README.md).
#   3. configs/ocr_pretrain_refine.json: the whole model again (--FT from phase 2's best) under a
#      restarted, lower learning rate at full difficulty: phase 2's cosine had decayed to 2 % while
#      the model still improved.
#   4. configs/ocr_pretrain_stacked.json: the whole model once more (--FT from phase 3's best) at a third
#      of phase 3's rate, on the stream since it stacks a third of the container numbers over two or three
#      lines and also shows their lines alone: at 4 % of the stream, stacked numbers stayed unread.
#   5. configs/ocr_pretrain_average.json: from phase 4's best at a constant low rate, keeping the weights
#      every 500 iterations (iter_<N>.pth); what is packed is their average (checkpoint averaging): phase 4's
#      validation had gone flat, each checkpoint a different point of the same valley.
#
#   scripts/pretrain_ocr.sh [train_ocr options...]   train, or resume where the last run stopped
#   scripts/pretrain_ocr.sh --pack-only              only package and score the current best checkpoint
#   scripts/pretrain_ocr.sh --snapshot               keep the run's progress in the repository (below)
#
# Resumable: Ctrl-C (or a killed machine) loses at most one validation interval; run it again to
# continue from latest.pth with its optimizer state, counters and data stream. Options given here go to
# every phase (on a LibTorch built with CUDA: --device cuda). Runs go to runs/pretrain (or
# $CARGOVISION_PRETRAIN_DIR).
#
# Training takes longer than one machine is kept, so its progress travels with the repository:
# --snapshot packs the running phase's latest.pth in half precision as
# data/models/pretrain/<phase>_iter_<N>.pth (11 MB, replacing the previous snapshot) with the phases'
# log_train.txt; commit them. On a machine without a run directory the script resumes from that snapshot
# at iteration N: the same schedule and data stream, the weights restored, Adam's moments (not kept, they
# would triple the size) rebuilt under a fresh warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${CARGOVISION_PRETRAIN_DIR:-runs/pretrain}"
encoder_run="$runs/encoder_ctc"
attn_run="$runs/codes_recognizer"
refine_run="$runs/codes_recognizer_refine"
run="$runs/codes_recognizer_stacked"
average_run="$runs/codes_recognizer_average"  # the last phase: the average of its iter_<N>.pth is what gets packed
phases=("$encoder_run" "$attn_run" "$refine_run" "$run" "$average_run")
model=data/models/codes_recognizer
snapshots=data/models/pretrain
pack_only=false
snapshot_only=false
if [[ "${1:-}" == "--pack-only" ]]; then pack_only=true; shift; fi
if [[ "${1:-}" == "--snapshot" ]]; then snapshot_only=true; shift; fi

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${CARGOVISION_JOBS:-2}" --target train_ocr pack_ocr_model demo_ocr synth_ocr
bin=build/bin

# The committed snapshot of a phase (data/models/pretrain/<phase>_iter_<N>.pth), if any.
phase_snapshot() { compgen -G "$snapshots/$(basename "$1")_iter_*.pth" | sort -V | tail -n 1 || true; }

# Whether a phase after the given one has a committed snapshot (the given one is then done).
later_snapshot() {
  local after=false each
  for each in "${phases[@]}"; do
    if [[ "$after" == true && -n "$(phase_snapshot "$each")" ]]; then return 0; fi
    [[ "$each" != "$1" ]] || after=true
  done
  return 1
}

# --snapshot: packs the latest phase that has started and its log into $snapshots.
take_snapshot() {
  local phase_run=""
  for candidate in "$average_run" "$run" "$refine_run" "$attn_run" "$encoder_run"; do
    if [[ -f "$candidate/latest.pth" ]]; then phase_run="$candidate"; break; fi
  done
  if [[ -z "$phase_run" ]]; then echo "pretrain: no run in $runs to snapshot" >&2; exit 1; fi
  local phase iteration stem
  phase=$(basename "$phase_run")
  iteration=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["iteration"])' "$phase_run/latest.pth.json")
  stem="$snapshots/${phase}_iter_${iteration}"
  mkdir -p "$snapshots"
  local packed
  packed=$(mktemp -d)
  "$bin/pack_ocr_model" --saved_model "$phase_run/latest.pth" --output "$packed/snapshot"
  rm -f "$snapshots"/*_iter_*.pth "$snapshots"/*_iter_*.json
  mv "$packed/snapshot.pth" "$stem.pth"
  mv "$packed/snapshot.json" "$stem.json"
  rmdir "$packed"
  # Each phase's log stays: the model card's accuracy curve.
  for each_run in "${phases[@]}"; do
    [[ ! -f "$each_run/log_train.txt" ]] || cp "$each_run/log_train.txt" "$snapshots/$(basename "$each_run")_log_train.txt"
  done
  # Phase 2 starts from phase 1's best: kept until a later phase has a snapshot of its own.
  if [[ "$phase_run" == "$encoder_run" && -f "$encoder_run/finished" ]]; then
    "$bin/pack_ocr_model" --saved_model "$encoder_run/best_accuracy.pth" --output "$snapshots/encoder_ctc_best"
  elif [[ "$phase_run" != "$encoder_run" ]]; then
    rm -f "$snapshots"/encoder_ctc_best.*
  fi
  echo "pretrain: snapshot $stem.pth at iteration $iteration; commit $snapshots"
}

# Runs one phase: train_phase RUN_DIR CONFIG [CHECKPOINT_TO_FINE_TUNE]. Resumes the phase from its
# latest.pth, else from its committed snapshot; stops the script when the phase was interrupted or failed.
train_phase() {
  local phase_run="$1" config="$2" start_from="${3:-}"
  local args=(--config "$config" --saved_models_dir "$runs")
  local snapshot
  snapshot=$(phase_snapshot "$phase_run")
  if [[ -f "$phase_run/latest.pth" ]]; then
    echo "pretrain: resuming from $phase_run/latest.pth"
    args+=(--FT=false --saved_model "$phase_run/latest.pth")
  elif [[ -n "$snapshot" ]]; then
    echo "pretrain: resuming from the committed snapshot $snapshot"
    mkdir -p "$phase_run"
    cp "$snapshots/$(basename "$phase_run")_log_train.txt" "$phase_run/log_train.txt" 2>/dev/null || true
    args+=(--FT=false --saved_model "$snapshot")
  elif [[ -n "$start_from" ]]; then
    args+=(--FT=true --saved_model "$start_from")
  fi
  local status=0
  "$bin/train_ocr" "${args[@]}" "${extra[@]}" || status=$?
  [[ $status -eq 0 ]] || exit "$status"
  touch "$phase_run/finished"
}

if [[ "$snapshot_only" == true ]]; then take_snapshot; exit 0; fi

if [[ "$pack_only" == false ]]; then
  extra=("$@")
  # A phase is done once it finished here, or a snapshot of its end or of a later phase was committed.
  encoder_best="$encoder_run/best_accuracy.pth"
  [[ -f "$encoder_best" || ! -f "$snapshots/encoder_ctc_best.pth" ]] || encoder_best="$snapshots/encoder_ctc_best.pth"
  if [[ ! -f "$encoder_run/finished" && ! -f "$snapshots/encoder_ctc_best.pth" ]] && ! later_snapshot "$encoder_run"; then
    echo "pretrain: phase 1, encoder under a CTC head ($encoder_run)"
    train_phase "$encoder_run" configs/ocr_pretrain_encoder.json
  fi
  if [[ ! -f "$attn_run/finished" ]] && ! later_snapshot "$attn_run"; then
    echo "pretrain: phase 2, attention decoder on the phase-1 encoder ($attn_run)"
    train_phase "$attn_run" configs/ocr_pretrain.json "$encoder_best"
  fi
  if [[ ! -f "$refine_run/finished" ]] && ! later_snapshot "$refine_run"; then
    echo "pretrain: phase 3, the whole model at a restarted learning rate ($refine_run)"
    train_phase "$refine_run" configs/ocr_pretrain_refine.json "$attn_run/best_accuracy.pth"
  fi
  if [[ ! -f "$run/finished" ]] && ! later_snapshot "$run"; then
    echo "pretrain: phase 4, stacked container numbers and their lines alone ($run)"
    train_phase "$run" configs/ocr_pretrain_stacked.json "$refine_run/best_accuracy.pth"
  fi
  if [[ ! -f "$average_run/finished" ]]; then
    echo "pretrain: phase 5, weights kept along a constant low rate for averaging ($average_run)"
    train_phase "$average_run" configs/ocr_pretrain_average.json "$run/best_accuracy.pth"
  fi
fi

mkdir -p "$(dirname "$model")"
# Every kept checkpoint of phase 5 (a machine that resumed it from a snapshot has only those written since).
mapfile -t kept < <(compgen -G "$average_run/iter_*.pth" | sort -V)
if [[ ${#kept[@]} -eq 0 ]]; then echo "pretrain: no $average_run/iter_*.pth to average" >&2; exit 1; fi
echo "pretrain: packing the average of ${#kept[@]} checkpoints: ${kept[*]}"
"$bin/pack_ocr_model" --saved_model "${kept[@]}" --output "$model"
# Held-out crops from another seed than the validation set's and the stream's.
# Drawn afresh each time: the generator may have changed since the last run.
heldout="$runs/heldout"
rm -rf "$heldout"
"$bin/synth_ocr" --output "$heldout/crops" --training 1000 --validation 0 --seed 6346 --lmdb "$heldout/lmdb" --log-level warn
# As read (the original's demo.py), and as demo_ocr reads by default: readings shaped like container numbers
# checked by their check digit, uncertain crops read again (--reread_below 0.6).
for way in as_read default; do
  flags=()
  [[ "$way" == default ]] || flags=(--code_check none --reread_below 0)
  "$bin/demo_ocr" --config "$model.json" --saved_model "$model.pth" --lmdb "$heldout/lmdb/training" \
    "${flags[@]}" --output_dir "$heldout/result_$way" --log-level warn > "$heldout/demo_stdout_$way.txt"
  echo "held-out, $way:"
  grep -E "^(Word Accuracy|ms per image)" "$heldout/result_$way/demo_result.csv"
done
