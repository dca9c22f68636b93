#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the pipelines on the sample in data/ and
# prints a summary of the reports.
#   scripts/demo.sh           the sample shipped in data/ (a few minutes on 2 cores)
#   scripts/demo.sh --smoke   a reduced run for CI (tiny epochs/iterations, same steps)
#   scripts/demo.sh --full    the seed's full schedules: ResNet152 on larger freshly generated scenes (hours on
#                             a CPU), the recognizer fine-tuned for the seed's 500 iterations
# Outputs go to runs/demo (or $CARGOVISION_DEMO_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-sample}"
case "$mode" in sample|--smoke|--full) ;; *) echo "demo: unknown option '$mode' (use --smoke or --full)" >&2; exit 2 ;; esac
model=data/models/codes_recognizer  # the shipped recognizer, which the OCR part reads with and fine-tunes
if [[ ! -f "$model.pth" || ! -f "$model.json" ]]; then
  echo "demo: $model.pth / .json missing from this checkout (restore them with git, or rebuild them with scripts/pretrain_ocr.sh)" >&2
  exit 1
fi

bash scripts/setup.sh
# Only what the demo runs: the tests and the benchmark driver are built by test.sh and bench.sh.
CARGOVISION_BUILD_TARGETS="preprocess cargovision_test_app synth_cargo create_lmdb train_ocr demo_ocr" bash scripts/build.sh
bin=build/bin
out="${CARGOVISION_DEMO_OUT:-runs/demo}"
mkdir -p "$out"
start=$(date +%s)

echo "== cargo classifier =="
cargo_data=data/cargo
cargo_args=(--config configs/cargo_demo.json)
case "$mode" in
  --smoke) cargo_args+=(--epochs 2 --image-size 64 --backbone resnet18) ;;
  --full)
    cargo_data="$out/cargo_data"
    "$bin/synth_cargo" --output "$cargo_data" --train 4000 --test 800 --seed 2026
    cargo_args=(--config configs/cargo_resnet152.json)
    if [[ ! -f resnet152-394f9c45.pth ]]; then
      echo "demo: torchvision's resnet152-394f9c45.pth is not here: ResNet152 from random weights, nothing frozen"
      cargo_args+=(--weights none --freeze-epochs 0)
    fi ;;
esac
"$bin/preprocess" "${cargo_args[@]}" --train-dir "$cargo_data/train" --output-dir "$out/classifier"
"$bin/test" --checkpoint "$out/classifier/best.pt" --test-dir "$cargo_data/test" --output "$out/classifier/"

echo
echo "== code recognizer =="
# The seed's flow on top of the shipped recognizer (data/models/codes_recognizer, trained from scratch on
# generated crops by scripts/pretrain_ocr.sh): read the sample's validation crops with it as shipped,
# fine-tune it on the sample's training crops (--FT, batch mix 0.482-0.482-0.036 from 01/02/03, the seed's
# schedule shortened), and read them again.
ocr_data=data/ocr
finetune_args=(--num_iter 200 --valInterval 50)
case "$mode" in
  --smoke) finetune_args=(--num_iter 4 --valInterval 2 --batch_size 16) ;;
  --full) finetune_args=() ;;  # the seed's 500 iterations, validation every 50
esac
for split in training validation; do
  "$bin/create_lmdb" --inputPath "$ocr_data/$split" --outputPath "$out/ocr_lmdb/$split"
done
mkdir -p "$out/ocr/before" "$out/ocr/after"
# One gt file for the whole validation folder, paths relative to it (the seed's demo.py reads a folder).
for folder in "$ocr_data"/validation/*/; do
  awk -v dir="$(basename "$folder")" -F'\t' 'NF >= 2 { print dir "/" $0 }' "$folder/gt.txt"
done > "$out/ocr/validation_gt.txt"
echo "-- the shipped recognizer as it is"
"$bin/demo_ocr" --config "$model.json" --saved_model "$model.pth" --image_folder "$ocr_data/validation" \
  --gt "$out/ocr/validation_gt.txt" --output_dir "$out/ocr/before" --log-level warn > "$out/ocr/before/demo_ocr_stdout.txt"
finetune_args+=(--saved_model "$model.pth")
echo "-- fine-tuning it on the sample (configs/ocr_finetune.json ${finetune_args[*]})"
"$bin/train_ocr" --config configs/ocr_finetune.json "${finetune_args[@]}" \
  --train_data "$out/ocr_lmdb/training" --valid_data "$out/ocr_lmdb/validation" --saved_models_dir "$out/ocr" --exp_name finetune
"$bin/demo_ocr" --config configs/ocr_finetune.json --saved_model "$out/ocr/finetune/best_accuracy.pth" \
  --image_folder "$ocr_data/validation" --gt "$out/ocr/validation_gt.txt" --output_dir "$out/ocr/after" \
  --log-level warn > "$out/ocr/after/demo_ocr_stdout.txt"

echo
echo "== summary ($(( $(date +%s) - start )) s) =="
echo "cargo classifier: $out/classifier/test_report.csv"
grep -E "^(Average Accuracy|Inference Speed)" "$out/classifier/test_report.csv" | sed 's/^/  /'
echo "  training history: $out/classifier/history.csv, $out/classifier/history.png"
for stage in before after; do
  label="shipped recognizer ($model.pth)"
  [[ "$stage" == after ]] && label="fine-tuned on the sample ($out/ocr/finetune/best_accuracy.pth)"
  echo "code recognizer, $label: $out/ocr/$stage/demo_result.csv"
  grep -E "^(Word Accuracy|ms per image)" "$out/ocr/$stage/demo_result.csv" | sed 's/^/  /'
done
echo "  fine-tuning log: $out/ocr/finetune/log_train.txt; first and last validation, best:"
grep -E "^\[[0-9]+/[0-9]+\]" "$out/ocr/finetune/log_train.txt" | sed -n '1p;$p' | sed 's/^/    /'
grep -E "^Best_accuracy" "$out/ocr/finetune/log_train.txt" | tail -1 | sed 's/^/    /'
echo "  a few predictions after fine-tuning:"
head -4 "$out/ocr/after/demo_result.csv" | sed 's/^/    /'
