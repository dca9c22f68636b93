#!/usr/bin/env bash
# Fuzzes the .pth reader (zip archive, safe pickle, tensor/storage checks) with libFuzzer under
# AddressSanitizer and UBSan. Usage: scripts/fuzz.sh [SECONDS] (default 60). Exits non-zero on a crash;
# the crashing input is left in build-fuzz/ as crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash scripts/setup.sh --fuzz
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARGOVISION_FUZZ=ON \
  -DCARGOVISION_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target pth_reader_fuzzer -j"${CARGOVISION_JOBS:-2}"
mkdir -p build-fuzz/corpus
cd build-fuzz
# New inputs go to the scratch corpus; the committed seeds in tests/fuzz/corpus are read only.
./bin/pth_reader_fuzzer -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  corpus ../tests/fuzz/corpus
