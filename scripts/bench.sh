#!/usr/bin/env bash
# Benchmarks (not tests). Usage: scripts/bench.sh classifier [--iterations N] [--arch NAME] [--rounds R]
#                               scripts/bench.sh ocr-data [--iterations N]
#                               scripts/bench.sh ocr-stream [--iterations N]
#                               scripts/bench.sh ocr [--iterations N] [--rounds R]
#                               scripts/bench.sh allocator [--iterations N] [--arch NAME]
#                               scripts/bench.sh onnx [--iterations N]   (ours vs onnxruntime on the exported
#                               recognizers: reported, not a goal)
#                               scripts/bench.sh distributed [--iterations N]   (train_ocr samples/s, one process
#                               against scripts/launch.sh 2: the overhead on one machine, not a speed-up)
# Prints cargovision's figures next to torchvision's, measured in the same run with the same threads,
# and their ratios (inference: cargovision ms / torchvision ms, lower is better; training: samples/s
# ratio, higher is better). classifier and ocr alternate the two sides over R rounds (default 3) and print
# each side's median over the rounds and the median of the rounds' own ratios: this shared machine's speed
# drifts by up to 30 % within minutes, and a ratio of two figures taken minutes apart carries that drift.
# An AVX2-only CPU on an AVX-512 machine: ONEDNN_MAX_CPU_ISA=AVX2 scripts/bench.sh ... caps oneDNN, and this
# script then caps OpenBLAS's kernels to Haswell (AVX2) as well, for both sides of the comparison (on a CPU
# that has AVX2: forcing Haswell kernels elsewhere would stop OpenBLAS with an illegal instruction).
set -euo pipefail
cd "$(dirname "$0")/.."
task="${1:-classifier}"
shift || true
[[ "$task" == "classifier" || "$task" == "ocr-data" || "$task" == "ocr-stream" || "$task" == "ocr" ||
   "$task" == "allocator" || "$task" == "onnx" || "$task" == "distributed" ]] || {
  echo "bench: unknown task '$task' (available: classifier, ocr-data, ocr-stream, ocr, allocator, onnx, distributed)" >&2; exit 2; }
bash scripts/setup.sh --reference
bash scripts/build.sh >/dev/null
if [[ "${ONEDNN_MAX_CPU_ISA:-}" == AVX2 && -z "${OPENBLAS_CORETYPE:-}" ]] && grep -qw avx2 /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=Haswell
fi
echo "bench: CPU kernels: oneDNN ${ONEDNN_MAX_CPU_ISA:-native}, OpenBLAS ${OPENBLAS_CORETYPE:-native}"
threads=$(nproc)
arch=resnet152
iterations=5
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ "$task" == "allocator" ]]; then
  # The same binaries twice: glibc's defaults (CARGOVISION_ALLOCATOR=system) against the heap settings
  # every app applies at start-up (core/allocator.h).
  echo "bench: heap settings, $threads threads, $iterations iterations: recognizer and $arch"
  results=()
  for allocator in system tuned; do
    ocr=$(CARGOVISION_ALLOCATOR=$allocator build/bin/cargovision_bench ocr --models TPS-ResNet-BiLSTM-Attn \
            --iterations "$iterations" --threads "$threads")
    cls=$(CARGOVISION_ALLOCATOR=$allocator build/bin/cargovision_bench classifier --arch "$arch" \
            --iterations "$iterations" --threads "$threads" --folder-images 8 --work build/bench_work)
    results+=("$ocr" "$cls")
  done
  /usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
ocr_sys, cls_sys, ocr_ours, cls_ours = (json.loads(a) for a in sys.argv[1:])
model = "TPS-ResNet-BiLSTM-Attn"
rows = [(f"{model} ms/img, batch 1", ocr_sys[model]["infer_ms_per_image_b1"], ocr_ours[model]["infer_ms_per_image_b1"], True),
        (f"{model} ms/img, batch 64", ocr_sys[model]["infer_ms_per_image_b64"], ocr_ours[model]["infer_ms_per_image_b64"], True),
        (f"{model} training samples/s", ocr_sys[model]["train_samples_per_s_b64"], ocr_ours[model]["train_samples_per_s_b64"], False),
        ("classifier ms/img, batch 1", cls_sys["infer_ms_per_image_b1"], cls_ours["infer_ms_per_image_b1"], True),
        ("classifier ms/img, batch 32", cls_sys["infer_ms_per_image_b32"], cls_ours["infer_ms_per_image_b32"], True),
        ("classifier training samples/s", cls_sys["train_samples_per_s_b8"], cls_ours["train_samples_per_s_b8"], False)]
print(f"{'':50}{'glibc':>10}{'kept heap':>11}{'ratio':>8}")
for label, baseline, ours, lower_better in rows:
    print(f"{label:50}{baseline:10.2f}{ours:11.2f}{ours / baseline:8.3f}  ({'lower' if lower_better else 'higher'} is better)")
PY
  exit 0
fi
if [[ "$task" == "distributed" ]]; then
  # train_ocr on the generated stream with the shipped recognizer's configuration, as one process and as two
  # ranks on this machine (scripts/launch.sh shares the cores out). Each rate is taken between a short and a
  # longer run, so start-up and the first validation cancel out.
  [[ "$iterations" == 5 ]] && iterations=20
  work=build/bench_work/distributed
  rm -rf "$work"
  args=(--config configs/ocr_pretrain.json --valid_data synth:32 --valInterval 1000000 --synth_curriculum 0
        --FT=false --saved_models_dir "$work" --log_level warn)
  seconds() {  # seconds LAUNCHER ITERATIONS NAME
    local start end
    start=$(date +%s.%N)
    $1 build/bin/train_ocr "${args[@]}" --num_iter "$2" --exp_name "$3" >/dev/null 2>&1
    end=$(date +%s.%N)
    /usr/bin/python3 -c "print($end - $start)"
  }
  echo "bench: train_ocr (configs/ocr_pretrain.json, batch 32, generated stream), $iterations iterations, 1 process vs 2 ranks"
  short=3
  one_short=$(seconds "" "$short" one_short)
  one_long=$(seconds "" "$((short + iterations))" one_long)
  two_short=$(seconds "bash scripts/launch.sh 2" "$short" two_short)
  two_long=$(seconds "bash scripts/launch.sh 2" "$((short + iterations))" two_long)
  args+=(--dist_sync_bn false)
  local_short=$(seconds "bash scripts/launch.sh 2" "$short" local_short)
  local_long=$(seconds "bash scripts/launch.sh 2" "$((short + iterations))" local_long)
  /usr/bin/python3 - "$iterations" "$one_short" "$one_long" "$two_short" "$two_long" "$local_short" "$local_long" <<'PY'
import sys
iterations = int(sys.argv[1])
one_short, one_long, two_short, two_long, local_short, local_long = (float(a) for a in sys.argv[2:])
rate = lambda short, long: iterations * 32 / (long - short)
one = rate(one_short, one_long)
print(f"{'TPS-ResNet-BiLSTM-Attn (128), batch 32':50}{'samples/s':>10}{'ratio':>8}")
print(f"{'1 process':50}{one:10.1f}{1:8.2f}")
for label, value in (("2 ranks, synchronised batch norm (default)", rate(two_short, two_long)),
                     ("2 ranks, --dist_sync_bn false", rate(local_short, local_long))):
    print(f"{label:50}{value:10.1f}{value / one:8.2f}  (same cores: the overhead, not a speed-up)")
PY
  exit 0
fi
if [[ "$task" == "onnx" ]]; then
  # The same random full-size weights in both: our inference (default kernels) and the exported graph in
  # onnxruntime (tests/onnx, installed by setup.sh --reference). Both decode all 26 attention steps here.
  echo "bench: recognizer inference, ours vs onnxruntime on the exported file, $threads threads, $iterations iterations"
  models=TPS-ResNet-BiLSTM-Attn,None-VGG-BiLSTM-CTC
  ours=$(build/bin/cargovision_bench ocr --models "$models" --iterations "$iterations" --threads "$threads" \
           --export-onnx build/bench_work/onnx)
  theirs=()
  for model in ${models//,/ }; do
    theirs+=("$(node tests/onnx/time_onnx.js "build/bench_work/onnx/$model.onnx" "$iterations" 1 64)")
  done
  /usr/bin/python3 - "$ours" "${theirs[@]}" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
models = ["TPS-ResNet-BiLSTM-Attn", "None-VGG-BiLSTM-CTC"]
print(f"{'ms per image':44}{'cargovision':>12}{'onnxruntime':>12}{'ratio':>8}")
for model, text in zip(models, sys.argv[2:]):
    theirs = json.loads(text)
    for batch in (1, 64):
        a, b = ours[model][f"infer_ms_per_image_b{batch}"], theirs[f"ms_per_image_b{batch}"]
        print(f"{model + f', batch {batch}':44}{a:12.2f}{b:12.2f}{a / b:8.2f}  (reported, not a goal)")
PY
  exit 0
fi
if [[ "$task" == "ocr-data" ]]; then
  [[ "$iterations" == 5 ]] && iterations=30
  echo "bench: OCR loader, batch 64, 32x100 grey, $iterations batches, 1 and 2 threads"
  ours=$(build/bin/cargovision_bench ocr-data --iterations "$iterations" --work build/bench_work)
  lmdb=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["lmdb"])' "$ours")
  theirs=$(/usr/bin/python3 scripts/bench_ocr_data.py --lmdb "$lmdb" --iterations "$iterations")
  /usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'samples/s':32}{'cargovision':>14}{'original (py)':>14}{'ratio':>9}")
for threads in (1, 2):
    key = f"samples_per_s_{threads}_threads"
    print(f"{f'{threads} loader thread(s)':32}{ours[key]:14.0f}{theirs[key]:14.0f}{ours[key] / theirs[key]:9.2f}  (higher is better)")
PY
  exit 0
fi
if [[ "$task" == "ocr-stream" ]]; then
  [[ "$iterations" == 5 ]] && iterations=20
  echo "bench: training fed by the code-crop generator vs an LMDB of the same generator's crops, batch 32, $iterations iterations each, in 4 alternating segments"
  ours=$(build/bin/cargovision_bench ocr-stream --iterations "$iterations" --threads "$threads" --work build/bench_work)
  /usr/bin/python3 - "$ours" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{'training samples/s':32}{'stream':>10}{'LMDB':>10}{'ratio':>9}")
ratio = r["stream_samples_per_s"] / r["lmdb_samples_per_s"]
print(f"{r['model']:32}{r['stream_samples_per_s']:10.1f}{r['lmdb_samples_per_s']:10.1f}{ratio:9.3f}  (goal >= 0.90)")
print(f"generator alone, one thread: {r['generator_crops_per_s_1_thread']:.0f} crops/s")
PY
  exit 0
fi
# Both sides, alternated over $rounds rounds; each round's two JSON objects are passed on as arguments.
alternate() {  # alternate OURS_COMMAND THEIRS_COMMAND: fills results=(ours1 theirs1 ours2 theirs2 ...)
  results=()
  for ((round = 1; round <= rounds; ++round)); do
    echo "bench: round $round of $rounds" >&2
    results+=("$($1)" "$($2)")
  done
}
if [[ "$task" == "ocr" ]]; then
  [[ "$iterations" == 5 ]] && iterations=20
  echo "bench: recognizers, 32x100 grey, 94-character set, $threads threads, $iterations iterations, $rounds rounds"
  alternate "build/bin/cargovision_bench ocr --iterations $iterations --threads $threads" \
            "/usr/bin/python3 scripts/bench_ocr_model.py --iterations $iterations --threads $threads"
  /usr/bin/python3 scripts/bench_report.py ocr "${results[@]}"
  exit 0
fi
echo "bench: $arch 224x224, $threads threads, $iterations iterations, $rounds rounds"
alternate "build/bin/cargovision_bench classifier --arch $arch --iterations $iterations --threads $threads --work build/bench_work" \
          "/usr/bin/python3 scripts/bench_torchvision.py --arch $arch --iterations $iterations --threads $threads"
/usr/bin/python3 scripts/bench_report.py classifier "${results[@]}"
