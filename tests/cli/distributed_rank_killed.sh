#!/usr/bin/env bash
# A data-parallel train_ocr whose rank 1 is killed (SIGKILL) mid-run: rank 0 stops within its timeout with
# an error naming itself, the launcher exits non-zero, and the last latest.pth rank 0 wrote still resumes.
#   distributed_rank_killed.sh BIN_DIR SOURCE_DIR WORK_DIR
set -uo pipefail
bin=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; echo "--- launch.log"; cat "$work/launch.log" 2>/dev/null; exit 1; }
args=(--select_data synth --batch_ratio 1 --valid_data synth:8 --batch_size 4 --valInterval 2
      --Transformation None --FeatureExtraction VGG --SequenceModeling None --Prediction CTC
      --output_channel 32 --hidden_size 32 --workers 1 --saved_models_dir "$work")
bash "$src/scripts/launch.sh" 2 "$bin/train_ocr" "${args[@]}" --num_iter 1000000 --exp_name run --dist_timeout 20 \
  > "$work/launch.log" 2>&1 &
launcher=$!
for _ in $(seq 240); do
  [[ -f "$work/run/latest.pth.json" ]] && break
  sleep 0.5
done
[[ -f "$work/run/latest.pth.json" ]] || { kill -INT "$launcher"; fail "no latest.pth after 120 s"; }
pid=$(sed -n 's/^launch: rank 1 of 2 is pid \([0-9]*\)$/\1/p' "$work/launch.log")
[[ -n "$pid" ]] || fail "the launcher did not name rank 1's pid"
kill -KILL "$pid"
started=$SECONDS
wait "$launcher"
status=$?
elapsed=$((SECONDS - started))
(( status != 0 )) || fail "the launcher exited 0 after a rank was killed"
(( elapsed <= 45 )) || fail "rank 0 took ${elapsed} s to stop (timeout 20 s)"
grep -Eq "error: rank 0 of 2: .* failed: .*\(another rank stopped, failed or did not answer within 20 s\)" \
  "$work/launch.log" || fail "no one-line error naming rank 0"
iteration=$(sed -n 's/.*"iteration": *\([0-9]*\).*/\1/p' "$work/run/latest.pth.json" | head -n 1)
[[ -n "$iteration" ]] || fail "latest.pth.json has no iteration"
# The surviving checkpoint resumes in one process.
"$bin/train_ocr" "${args[@]}" --num_iter $((iteration + 2)) --saved_model "$work/run/latest.pth" --exp_name run \
  > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "latest.pth (iteration $iteration) did not resume"; }
echo "distributed rank killed: OK (rank 0 stopped ${elapsed} s after rank 1 was killed; resumed from iteration $iteration)"
