#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the pipelines on the sample in data/ and
# prints a summary of the reports.
#   scripts/demo.sh           the sample shipped in data/ (a few minutes on 2 cores)
#   scripts/demo.sh --smoke   a reduced run for CI (tiny epochs/iterations, same steps)
#   scripts/demo.sh --full    the seed's full schedule on larger freshly generated data (hours on a CPU)
# Outputs go to runs/demo (or $CARGOVISION_DEMO_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-sample}"
case "$mode" in sample|--smoke|--full) ;; *) echo "demo: unknown option '$mode' (use --smoke or --full)" >&2; exit 2 ;; esac

bash scripts/setup.sh
bash scripts/build.sh
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
    cargo_args=(--config configs/cargo_resnet152.json) ;;
esac
"$bin/preprocess" "${cargo_args[@]}" --train-dir "$cargo_data/train" --output-dir "$out/classifier"
"$bin/test" --checkpoint "$out/classifier/best.pt" --test-dir "$cargo_data/test" --output "$out/classifier/"

echo
echo "== code recognizer =="
# Two runs on the sample: the framework's CRNN configuration, which learns it within minutes from random
# weights, and the seed's TPS-ResNet-BiLSTM-Attn (narrowed), whose attention needs far more iterations
# than a demo has (the seed fine-tuned it from a pretrained model), shown end to end all the same.
ocr_data=data/ocr
runs=(recognizer seed_architecture)
configs=(configs/ocr_demo.json configs/ocr_demo_attn.json)
# Read with the best-accuracy checkpoint, or, for a run whose accuracy stays 0, the best-norm_ED one.
checkpoints=(best_accuracy.pth best_norm_ED.pth)
ocr_args=()        # for train_ocr and demo_ocr
ocr_train_args=()  # train_ocr only
case "$mode" in
  --smoke)
    ocr_args=(--output_channel 32 --hidden_size 32)
    ocr_train_args=(--num_iter 20 --valInterval 10) ;;
  --full)
    ocr_data="$out/ocr_data"
    "$bin/synth_ocr" --output "$ocr_data" --training 3000 --validation 300 --seed 2026 --height 32
    runs=(seed_architecture)
    configs=(configs/ocr_tps_resnet_bilstm_attn.json)
    checkpoints=(best_accuracy.pth)
    ocr_train_args=(--FT=false) ;;  # no pretrained weights here: from scratch
esac
for split in training validation; do
  "$bin/create_lmdb" --inputPath "$ocr_data/$split" --outputPath "$out/ocr_lmdb/$split"
done
mkdir -p "$out/ocr"
# One gt file for the whole validation folder, paths relative to it (the seed's demo.py reads a folder).
for folder in "$ocr_data"/validation/*/; do
  awk -v dir="$(basename "$folder")" -F'\t' 'NF >= 2 { print dir "/" $0 }' "$folder/gt.txt"
done > "$out/ocr/validation_gt.txt"
for i in "${!runs[@]}"; do
  run="${runs[$i]}"
  echo "-- ${run}: ${configs[$i]}"
  "$bin/train_ocr" --config "${configs[$i]}" "${ocr_args[@]}" "${ocr_train_args[@]}" \
    --train_data "$out/ocr_lmdb/training" --valid_data "$out/ocr_lmdb/validation" --saved_models_dir "$out/ocr" --exp_name "$run"
  mkdir -p "$out/ocr/$run/demo"
  "$bin/demo_ocr" --config "${configs[$i]}" "${ocr_args[@]}" --saved_model "$out/ocr/$run/${checkpoints[$i]}" \
    --image_folder "$ocr_data/validation" --gt "$out/ocr/validation_gt.txt" --output_dir "$out/ocr/$run/demo" \
    --log-level warn > "$out/ocr/$run/demo/demo_ocr_stdout.txt"
done

echo
echo "== summary ($(( $(date +%s) - start )) s) =="
echo "cargo classifier: $out/classifier/test_report.csv"
grep -E "^(Average Accuracy|Inference Speed)" "$out/classifier/test_report.csv" | sed 's/^/  /'
echo "  training history: $out/classifier/history.csv, $out/classifier/history.png"
for i in "${!runs[@]}"; do
  run="${runs[$i]}"
  echo "code recognizer, ${configs[$i]} (${checkpoints[$i]}): $out/ocr/$run/demo/demo_result.csv"
  grep -E "^(Word Accuracy|ms per image)" "$out/ocr/$run/demo/demo_result.csv" | sed 's/^/  /'
  echo "  training log: $out/ocr/$run/log_train.txt; first and last validation, best:"
  grep -E "^\[[0-9]+/[0-9]+\]" "$out/ocr/$run/log_train.txt" | sed -n '1p;$p' | sed 's/^/    /'
  grep -E "^Best_accuracy" "$out/ocr/$run/log_train.txt" | tail -1 | sed 's/^/    /'
  echo "  a few predictions:"
  head -4 "$out/ocr/$run/demo/demo_result.csv" | sed 's/^/    /'
done
