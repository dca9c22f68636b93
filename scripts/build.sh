#!/usr/bin/env bash
# Configures and builds cargovision in build/ (Release, 2 jobs). Extra arguments go to cmake's configure
# step; CARGOVISION_BUILD_TARGETS="a b" builds only those targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${CARGOVISION_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for target in ${CARGOVISION_BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build build -j"$jobs" "${targets[@]}"
