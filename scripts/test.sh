#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --reference
start=$(date +%s)
bash scripts/build.sh
echo "build: $(( $(date +%s) - start )) s"
ctest --test-dir build --output-on-failure -j2 --timeout 900
echo "== demo smoke run (scripts/demo.sh --smoke) =="
CARGOVISION_DEMO_OUT=build/demo_smoke bash scripts/demo.sh --smoke
