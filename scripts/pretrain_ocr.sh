#!/usr/bin/env bash
# Reproduces the shipped recognizer data/models/codes_recognizer.{pth,json} from scratch: the seed's
# TPS-ResNet-BiLSTM-Attn (narrowed to 256 channels, case-sensitive 94 characters) trained on the endless
# generated code-crop stream (configs/ocr_pretrain.json: Adam, warm-up, cosine decay), then its
# best-accuracy checkpoint packed in half precision and scored on a held-out generated set.
#
#   scripts/pretrain_ocr.sh [train_ocr options...]   train, or resume where the last run stopped
#   scripts/pretrain_ocr.sh --pack-only              only package and score the current best checkpoint
#
# Resumable: Ctrl-C (or a killed machine) loses at most one validation interval; run it again to
# continue from latest.pth with its optimizer state, counters and data stream. On a LibTorch built with
# CUDA add --device cuda. Runs go to runs/pretrain (or $CARGOVISION_PRETRAIN_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${CARGOVISION_PRETRAIN_DIR:-runs/pretrain}"
run="$runs/codes_recognizer"
model=data/models/codes_recognizer
pack_only=false
if [[ "${1:-}" == "--pack-only" ]]; then pack_only=true; shift; fi

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${CARGOVISION_JOBS:-2}" --target train_ocr pack_ocr_model demo_ocr synth_ocr
bin=build/bin

if [[ "$pack_only" == false ]]; then
  args=(--config configs/ocr_pretrain.json --saved_models_dir "$runs")
  if [[ -f "$run/latest.pth" ]]; then
    echo "pretrain: resuming from $run/latest.pth"
    args+=(--saved_model "$run/latest.pth")
  fi
  status=0
  "$bin/train_ocr" "${args[@]}" "$@" || status=$?
  if [[ $status -ne 0 && $status -ne 130 ]]; then exit "$status"; fi
fi

mkdir -p "$(dirname "$model")"
"$bin/pack_ocr_model" --saved_model "$run/best_accuracy.pth" --output "$model"
# Held-out crops from another seed than the validation set's and the stream's.
heldout="$runs/heldout"
if [[ ! -d "$heldout/lmdb/training" ]]; then
  "$bin/synth_ocr" --output "$heldout/crops" --training 400 --validation 0 --seed 6346 --lmdb "$heldout/lmdb"
fi
"$bin/demo_ocr" --config "$model.json" --saved_model "$model.pth" --lmdb "$heldout/lmdb/training" \
  --output_dir "$heldout/result" --log-level warn > "$heldout/demo_stdout.txt"
grep -E "^(Word Accuracy|ms per image)" "$heldout/result/demo_result.csv"
