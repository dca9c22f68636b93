#!/usr/bin/env bash
# Reproduces the shipped recognizer data/models/codes_recognizer.{pth,json} from scratch: the seed's
# TPS-ResNet-BiLSTM-Attn (narrowed to 128 channels, case-sensitive 94 characters) trained on the endless
# generated code-crop stream in two phases, then its best-accuracy checkpoint packed in half precision
# and scored on a held-out generated set (another seed).
#   1. configs/ocr_pretrain_encoder.json: the same Transformation-FeatureExtraction-SequenceModeling
#      under a CTC head. CTC needs no alignment to be learnt, so the encoder learns to read quickly.
#   2. configs/ocr_pretrain.json: TPS and the attention decoder on top (--FT from phase 1; the CTC layer
#      is not in the Attn model and is left behind; TPS starts as the identity and learns at 5 % of the
#      rate, as under Adam at the full rate its grid degenerates). From random weights this architecture
#      did not read after 2,800 iterations on this stream (data/models/README.md).
#
#   scripts/pretrain_ocr.sh [train_ocr options...]   train, or resume where the last run stopped
#   scripts/pretrain_ocr.sh --pack-only              only package and score the current best checkpoint
#
# Resumable: Ctrl-C (or a killed machine) loses at most one validation interval; run it again to
# continue from latest.pth with its optimizer state, counters and data stream. Options given here go to
# both phases (on a LibTorch built with CUDA: --device cuda). Runs go to runs/pretrain (or
# $CARGOVISION_PRETRAIN_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${CARGOVISION_PRETRAIN_DIR:-runs/pretrain}"
encoder_run="$runs/encoder_ctc"
run="$runs/codes_recognizer"
model=data/models/codes_recognizer
pack_only=false
if [[ "${1:-}" == "--pack-only" ]]; then pack_only=true; shift; fi

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${CARGOVISION_JOBS:-2}" --target train_ocr pack_ocr_model demo_ocr synth_ocr
bin=build/bin

# Runs one phase: train_phase RUN_DIR CONFIG [CHECKPOINT_TO_FINE_TUNE]. Resumes the phase from its
# latest.pth; stops the script when the phase was interrupted or failed.
train_phase() {
  local phase_run="$1" config="$2" start_from="${3:-}"
  local args=(--config "$config" --saved_models_dir "$runs")
  if [[ -f "$phase_run/latest.pth" ]]; then
    echo "pretrain: resuming from $phase_run/latest.pth"
    args+=(--FT=false --saved_model "$phase_run/latest.pth")
  elif [[ -n "$start_from" ]]; then
    args+=(--FT=true --saved_model "$start_from")
  fi
  local status=0
  "$bin/train_ocr" "${args[@]}" "${extra[@]}" || status=$?
  [[ $status -eq 0 ]] || exit "$status"
  touch "$phase_run/finished"
}

if [[ "$pack_only" == false ]]; then
  extra=("$@")
  if [[ ! -f "$encoder_run/finished" ]]; then
    echo "pretrain: phase 1, encoder under a CTC head ($encoder_run)"
    train_phase "$encoder_run" configs/ocr_pretrain_encoder.json
  fi
  if [[ ! -f "$run/finished" ]]; then
    echo "pretrain: phase 2, attention decoder on the phase-1 encoder ($run)"
    train_phase "$run" configs/ocr_pretrain.json "$encoder_run/best_accuracy.pth"
  fi
fi

mkdir -p "$(dirname "$model")"
"$bin/pack_ocr_model" --saved_model "$run/best_accuracy.pth" --output "$model"
# Held-out crops from another seed than the validation set's and the stream's.
heldout="$runs/heldout"
if [[ ! -d "$heldout/lmdb/training" ]]; then
  "$bin/synth_ocr" --output "$heldout/crops" --training 1000 --validation 0 --seed 6346 --lmdb "$heldout/lmdb"
fi
"$bin/demo_ocr" --config "$model.json" --saved_model "$model.pth" --lmdb "$heldout/lmdb/training" \
  --output_dir "$heldout/result" --log-level warn > "$heldout/demo_stdout.txt"
grep -E "^(Word Accuracy|ms per image)" "$heldout/result/demo_result.csv"
