#!/usr/bin/env bash
# Configures and builds cargovision in build/ (Release, 2 jobs). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${CARGOVISION_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$jobs"
