#!/usr/bin/env bash
# ctest package.consumer: installs the build into a fresh prefix, builds tests/package/read_code.cpp against
# it with find_package(cargovision), and checks that the program reads a crop exactly as the installed
# demo_ocr does. With no shipped recognizer in the checkout, a tiny one is trained and packed by the
# installed train_ocr and pack_ocr_model first.
#   check_installed_package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1" source="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/lib/cmake/cargovision/cargovisionConfig.cmake"
test -f "$prefix/include/cargovision/ocr/code_recognizer.h"
cmake -S "$source/tests/package" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" -j2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

bin="$prefix/bin"
"$bin/synth_ocr" --output "$work/crops" --training 1 --validation 0 --seed 5 > /dev/null
crop=$(find "$work/crops/training/01" -name '*.jpg' -o -name '*.png' | sort | head -1)
test -n "$crop"
model_args=()
if [[ -f "$prefix/share/cargovision/models/codes_recognizer.pth" ]]; then
  stem="$prefix/share/cargovision/models/codes_recognizer"
  echo "package: the installed shipped recognizer"
else
  echo "package: no shipped recognizer in this checkout; packing a tiny one"
  "$bin/train_ocr" --select_data synth --batch_ratio 1 --valid_data synth:4 --num_iter 2 --valInterval 1 --batch_size 4 \
    --Transformation None --FeatureExtraction VGG --SequenceModeling None --Prediction CTC \
    --output_channel 16 --hidden_size 16 --saved_models_dir "$work/runs" --exp_name tiny --workers 0 \
    > "$work/train.log" 2>&1 || { cat "$work/train.log"; exit 1; }
  stem="$work/tiny"
  "$bin/pack_ocr_model" --saved_model "$work/runs/tiny/latest.pth" --output "$stem" > /dev/null
  model_args=(--config "$stem.json" --saved_model "$stem.pth")
fi
mkdir -p "$work/one" && cp "$crop" "$work/one/"
"$bin/demo_ocr" "${model_args[@]}" --image_folder "$work/one" --output_dir "$work/demo" --no_report > /dev/null 2>&1
expected=$(awk -F, 'NR == 2 { printf "%s\t%s", $2, $3 }' "$work/demo/demo_result.csv")
actual=$("$work/consumer/read_code" "$crop" "$stem")
echo "demo_ocr: '$expected'  read_code: '$actual'"
[[ "$actual" == "$expected" ]]
# A missing package is a one-line error naming the file.
if "$work/consumer/read_code" "$crop" "$work/nothing" 2> "$work/error.txt"; then exit 1; fi
grep -q "nothing.pth: no such recognizer package" "$work/error.txt"
echo "package: OK"
