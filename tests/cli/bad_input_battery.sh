#!/usr/bin/env bash
# The bad-input battery: what a user can get wrong, tried on every app. Each failing case must end with
# exit status 1 and exactly one "error: ..." line on stderr naming the thing and the problem; each
# partly-bad input must still run, report what it skipped by path and count it, and keep every good
# sample. Runs from ctest (cli.bad_input_battery) and so from scripts/test.sh.
#
#   tests/cli/bad_input_battery.sh BIN_DIR SOURCE_DIR WORK_DIR
set -uo pipefail
bin=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work="$3"
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 2
cases=0
failures=0

fail() {
  echo "FAIL $1: $2"
  failures=$((failures + 1))
}

# expect_error NAME REGEX COMMAND...
expect_error() {
  local name="$1" regex="$2"
  shift 2
  cases=$((cases + 1))
  local status=0
  "$@" >"$name.out" 2>"$name.err" || status=$?
  local lines
  lines=$(grep -c '^error: ' "$name.err")
  if [[ $status -ne 1 ]]; then
    fail "$name" "exit status $status, expected 1; stderr: $(tail -c 300 "$name.err")"
  elif [[ $lines -ne 1 ]]; then
    fail "$name" "$lines 'error:' lines, expected 1"
  elif ! grep -qE -- "^error: .*${regex}" "$name.err"; then
    fail "$name" "'$(grep '^error: ' "$name.err")' does not match '$regex'"
  else
    echo "ok   $name: $(grep '^error: ' "$name.err")"
  fi
}

# expect_success NAME COMMAND...
expect_success() {
  local name="$1"
  shift
  cases=$((cases + 1))
  local status=0
  "$@" >"$name.out" 2>"$name.err" || status=$?
  if [[ $status -ne 0 ]]; then
    fail "$name" "exit status $status; stderr: $(tail -c 300 "$name.err")"
    return 1
  fi
  echo "ok   $name"
}

# expect_in FILE REGEX CASE: a line of FILE matches REGEX.
expect_in() {
  cases=$((cases + 1))
  if grep -qE -- "$2" "$1"; then echo "ok   $3"; else fail "$3" "no line of $1 matches '$2'"; fi
}

bad="$src/tests/data/bad_images"
pth="$src/tests/data/pth"
printf 'PK\003\004 not really a zip, nor a pickle' >random_bytes.pth
head -c 2000 "$pth/zip_dict.pth" >truncated.pth
printf '{"lr": 0.1,' >malformed.json
printf '{"learning_rate": 0.1}' >unknown_key.json
printf '{"epochs": "many"}' >wrong_type.json
printf '{"num_iter": "many"}' >wrong_type_ocr.json
touch a_file

# --- preprocess / test: folders, images, numbers, weights, configs, outputs -----------------------
mkdir -p empty_folder one_class/0
cp "$bad/one_pixel.png" one_class/0/
"$bin/synth_cargo" --output cargo --train 24 --test 6 --seed 3 --log-level warn >/dev/null
small=(--backbone resnet18 --image-size 32 --log-level warn)
train=("${small[@]}" --train-dir cargo/train --epochs 1 --batch-size 4)
expect_error preprocess_missing_folder "/nonexistent: folder does not exist" \
  "$bin/preprocess" "${small[@]}" --train-dir /nonexistent -o run
expect_error preprocess_empty_folder "empty_folder: .*class sub-folders" "$bin/preprocess" "${small[@]}" --train-dir empty_folder -o run
expect_error preprocess_one_class "one_class: found 1 class folder" "$bin/preprocess" "${small[@]}" --train-dir one_class -o run
expect_error preprocess_zero_epochs "epochs must be at least 1" \
  "$bin/preprocess" "${small[@]}" --train-dir cargo/train --epochs 0 -o run
expect_error preprocess_zero_batch "batch_size must be at least 1" \
  "$bin/preprocess" "${small[@]}" --train-dir cargo/train --batch-size 0 -o run
expect_error preprocess_split_above_one "validation_split must be in \(0, 1\)" \
  "$bin/preprocess" "${train[@]}" --validation-split 1.5 -o run
expect_error preprocess_malformed_config "malformed.json" "$bin/preprocess" --config malformed.json
expect_error preprocess_unknown_config_key "unknown_key.json: unknown option 'learning_rate'" "$bin/preprocess" --config unknown_key.json
expect_error preprocess_wrong_type_config "wrong_type.json: invalid option value" "$bin/preprocess" --config wrong_type.json
expect_error preprocess_missing_weights "absent.pth: weights file not found" \
  "$bin/preprocess" "${train[@]}" --weights absent.pth -o run
for weights in random_bytes truncated; do
  expect_error "preprocess_${weights}_weights" "${weights}.pth: " "$bin/preprocess" "${train[@]}" --weights "$weights.pth" -o run
done
expect_error preprocess_hostile_weights "hostile_zip_os_system.pth: .*os" \
  "$bin/preprocess" "${train[@]}" --weights "$pth/hostile_zip_os_system.pth" -o run
expect_error preprocess_output_is_a_file "a_file" "$bin/preprocess" "${train[@]}" -o a_file/run
expect_error preprocess_frozen_random_backbone "freeze_epochs 2 would train the head on a frozen random backbone" \
  "$bin/preprocess" "${train[@]}" --freeze-epochs 2 -o run

# Broken and odd images among good ones: training and test run, report each by path and count them.
for class in 0 1; do
  cp "$bad"/{truncated.jpg,zero_bytes.jpg,text_named.jpg} "cargo/train/$class/"
  cp "$bad"/{grey16.png,cmyk.jpg,one_pixel.png} "cargo/test/$class/"
done
cp "$bad"/{truncated.jpg,zero_bytes.jpg,text_named.jpg,huge_6000.png} cargo/test/1/
if expect_success preprocess_with_broken_images "$bin/preprocess" "${train[@]}" -o run; then
  expect_in preprocess_with_broken_images.err "6 unreadable image\(s\) were skipped" preprocess_counts_skipped_images
  expect_in preprocess_with_broken_images.err "train/0/truncated.jpg: truncated JPEG" preprocess_names_the_truncated_jpeg
fi
if expect_success test_with_odd_images "$bin/test" --checkpoint run/best.pt --test-dir cargo/test --output report.csv; then
  good=$(find cargo/test -name '*.jpg' -o -name '*.png' | grep -vcE 'truncated|zero_bytes|text_named')
  rows=$(grep -cE '^[01]/' report.csv)
  cases=$((cases + 1))
  if [[ "$rows" == "$good" ]]; then echo "ok   test_reports_every_good_image ($rows)"; else fail test_reports_every_good_image "$rows rows for $good good images"; fi
  expect_in test_with_odd_images.err "3 unreadable image" test_counts_skipped_images
  expect_in test_with_odd_images.err "zero_bytes.jpg: empty file" test_names_the_empty_file
fi
for checkpoint in random_bytes truncated; do
  # Bad weights beside a real sidecar: the sidecar's fingerprint already tells they are not its weights.
  cp "$checkpoint.pth" "$checkpoint.pt"
  cp run/best.json "$checkpoint.json"
  expect_error "test_${checkpoint}_checkpoint" "${checkpoint}.json: describes another version of ${checkpoint}.pt" \
    "$bin/test" --checkpoint "$checkpoint.pt" --test-dir cargo/test
done
printf '{"backbone": "resnet18"}' >no_format.json
cp run/best.pt no_format.pt
expect_error test_foreign_sidecar "no_format.json: not a cargovision classifier sidecar" \
  "$bin/test" --checkpoint no_format.pt --test-dir cargo/test
expect_error test_missing_checkpoint "absent.pt: checkpoint not found" "$bin/test" --checkpoint absent.pt --test-dir cargo/test
expect_error test_report_under_a_file "a_file" "$bin/test" --checkpoint run/best.pt --test-dir cargo/test --output a_file/r.csv

# --- create_lmdb: gt files ------------------------------------------------------------------------
mkdir -p crops
cp "$src"/tests/data/ocr_crops/*.jpg crops/
mapfile -t crop_names < <(cd crops && ls ./*.jpg | sed 's|^\./||' | head -4)
printf '%s\t3801\r\n%s\tFB875209\r\n' "${crop_names[0]}" "${crop_names[1]}" >crops/crlf.txt
printf '\357\273\277%s\t3801\n' "${crop_names[0]}" >crops/bom.txt
printf '%s\t38\37701\n' "${crop_names[0]}" >crops/not_utf8.txt
printf '%s\t\n%s\t22G1\n' "${crop_names[0]}" "${crop_names[1]}" >crops/empty_label.txt
printf 'absent.png\t3801\n%s\t22G1\n' "${crop_names[1]}" >crops/missing_image.txt
printf 'absent.png\t3801\n' >crops/only_missing.txt
expect_success create_lmdb_crlf "$bin/create_lmdb" --inputPath crops --gtFile crops/crlf.txt --outputPath lmdb/crlf
expect_in create_lmdb_crlf.err "with 2 samples" create_lmdb_crlf_reads_both_lines
expect_success create_lmdb_bom "$bin/create_lmdb" --inputPath crops --gtFile crops/bom.txt --outputPath lmdb/bom
expect_error create_lmdb_not_utf8 "not_utf8.txt:1: invalid UTF-8" \
  "$bin/create_lmdb" --inputPath crops --gtFile crops/not_utf8.txt --outputPath lmdb/bad
expect_success create_lmdb_empty_label "$bin/create_lmdb" --inputPath crops --gtFile crops/empty_label.txt --outputPath lmdb/empty
expect_in create_lmdb_empty_label.err "empty_label.txt:1: .* has an empty label; skipped" create_lmdb_names_the_empty_label
expect_success create_lmdb_missing_image "$bin/create_lmdb" --inputPath crops --gtFile crops/missing_image.txt --outputPath lmdb/missing
expect_in create_lmdb_missing_image.err "missing_image.txt:1: .*absent.png does not exist" create_lmdb_names_the_missing_image
expect_error create_lmdb_nothing_left "all 1 images listed in .*only_missing.txt were skipped" \
  "$bin/create_lmdb" --inputPath crops --gtFile crops/only_missing.txt --outputPath lmdb/crlf
expect_in create_lmdb_crlf.err "with 2 samples" create_lmdb_keeps_the_existing_lmdb
expect_success create_lmdb_replaces_existing "$bin/create_lmdb" --inputPath crops --gtFile crops/bom.txt --outputPath lmdb/crlf
expect_in create_lmdb_replaces_existing.err "an LMDB is there; it is replaced \(atomically\)" create_lmdb_says_it_replaces
# Two at once on one output: both succeed, the LMDB is one of the two, whole.
"$bin/create_lmdb" --inputPath crops --gtFile crops/crlf.txt --outputPath lmdb/race >race1.out 2>&1 &
"$bin/create_lmdb" --inputPath crops --gtFile crops/bom.txt --outputPath lmdb/race >race2.out 2>&1
race_status=$?
wait $! || race_status=1
cases=$((cases + 1))
if [[ $race_status -eq 0 ]] && ls lmdb/race/data.mdb >/dev/null 2>&1 && ! ls -d lmdb/race.partial* >/dev/null 2>&1; then
  echo "ok   create_lmdb_two_at_once"
else
  fail create_lmdb_two_at_once "status $race_status, $(ls -d lmdb/race* 2>&1)"
fi

# --- train_ocr / demo_ocr: checkpoints, numbers, configs --------------------------------------------
ocr=(--select_data synth --batch_ratio 1 --valid_data synth:4 --batch_size 2 --valInterval 1
     --output_channel 32 --hidden_size 16 --num_fiducial 6 --workers 1 --log_level warn --saved_models_dir ocr_runs)
expect_error train_ocr_malformed_config "malformed.json" "$bin/train_ocr" --config malformed.json
expect_error train_ocr_unknown_config_key "unknown option 'learning_rate'" "$bin/train_ocr" --config unknown_key.json
expect_error train_ocr_wrong_type_config "wrong_type_ocr.json: invalid option value" "$bin/train_ocr" --config wrong_type_ocr.json
expect_error train_ocr_zero_iterations "--num_iter and --valInterval must be positive" "$bin/train_ocr" "${ocr[@]}" --num_iter 0
expect_error train_ocr_negative_ratio "--batch_ratio '-1': a share is negative" \
  "$bin/train_ocr" --select_data synth --valid_data synth:4 --num_iter 2 --batch_ratio=-1
expect_error train_ocr_channels_without_rgb "--input_channel 3 does not match the grey crops" \
  "$bin/train_ocr" "${ocr[@]}" --num_iter 2 --input_channel 3
for model in random_bytes truncated; do
  expect_error "train_ocr_${model}_checkpoint" "${model}.pth: " \
    "$bin/train_ocr" "${ocr[@]}" --num_iter 2 --saved_model "$model.pth" --exp_name "$model"
  expect_error "demo_ocr_${model}_checkpoint" "${model}.pth: " \
    "$bin/demo_ocr" --saved_model "$model.pth" --image_folder crops --output_dir demo --output_channel 32 --hidden_size 16
done
expect_error demo_ocr_hostile_checkpoint "hostile_zip_os_system.pth: .*os" \
  "$bin/demo_ocr" --saved_model "$pth/hostile_zip_os_system.pth" --image_folder crops --output_dir demo
expect_error demo_ocr_missing_checkpoint "absent.pth: checkpoint not found" \
  "$bin/demo_ocr" --saved_model absent.pth --image_folder crops --output_dir demo
if expect_success train_ocr_tiny "$bin/train_ocr" "${ocr[@]}" --num_iter 2 --exp_name tiny; then
  expect_error demo_ocr_wrong_model "first shape-mismatched|Prediction stage differs|classes and these options" \
    "$bin/demo_ocr" --saved_model ocr_runs/tiny/best_norm_ED.pth --image_folder crops --output_dir demo \
    --output_channel 32 --hidden_size 16 --num_fiducial 6 --Prediction CTC
  expect_error demo_ocr_classifier_checkpoint "best.pt: " \
    "$bin/demo_ocr" --saved_model run/best.pt --image_folder crops --output_dir demo --output_channel 32 --hidden_size 16
  expect_error train_ocr_other_sensitivity "--sensitive and --character decide the count" \
    "$bin/train_ocr" "${ocr[@]}" --sensitive --saved_model ocr_runs/tiny/latest.pth --exp_name tiny --num_iter 4
  expect_error demo_ocr_output_is_a_file "a_file" \
    "$bin/demo_ocr" --saved_model ocr_runs/tiny/best_norm_ED.pth --image_folder crops --output_dir a_file/demo \
    --output_channel 32 --hidden_size 16 --num_fiducial 6
  # demo_ocr reading the checkpoint train_ocr keeps replacing: every read sees a whole file.
  "$bin/train_ocr" "${ocr[@]}" --exp_name busy --num_iter 100000 >busy.out 2>&1 &
  trainer=$!
  reads_ok=0
  for _ in $(seq 120); do
    [[ -f ocr_runs/busy/latest.pth ]] && break
    sleep 1
  done
  for _ in 1 2 3 4 5; do
    if "$bin/demo_ocr" --saved_model ocr_runs/busy/latest.pth --image_folder crops --output_dir demo_busy \
         --output_channel 32 --hidden_size 16 --num_fiducial 6 --log_level warn >/dev/null 2>&1; then
      reads_ok=$((reads_ok + 1))
    fi
  done
  kill -INT "$trainer"
  wait "$trainer"
  cases=$((cases + 1))
  if [[ $reads_ok -eq 5 ]]; then echo "ok   demo_ocr_while_train_ocr_writes ($reads_ok reads)"; else fail demo_ocr_while_train_ocr_writes "$reads_ok good reads"; fi
fi

echo "bad-input battery: $((cases - failures)) of $cases cases as expected"
[[ $failures -eq 0 ]]
