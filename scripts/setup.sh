#!/usr/bin/env bash
# Installs the Debian 12 packages cargovision needs, only those missing. Idempotent and quiet when all
# are present. Usage: scripts/setup.sh [--reference]   (--reference adds python3-torchvision, -pil, -lmdb and
# -onnx, chromium (the headless check of the HTML reports) and, with npm, onnxruntime-node in tests/onnx (the
# ONNX export tests run the exported files in it), used by the reference tests and scripts/bench.sh; --fuzz
# adds clang for scripts/fuzz.sh)
set -euo pipefail

# Free fonts the code-crop generator draws with (src/synth/font_catalog.cpp keeps their upright sans, mono,
# condensed and stencil faces): DIN-like, grotesque, geometric, technical (ISO 3098) and stencil lettering.
fonts=(fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-freefont-ttf fonts-croscore
       fonts-roboto-unhinted fonts-open-sans fonts-urw-base35 fonts-allerta fonts-b612 fonts-bebas-neue
       fonts-league-spartan fonts-hack fonts-firacode fonts-jetbrains-mono fonts-cantarell fonts-noto-mono fonts-go
       fonts-clear-sans fonts-jura fonts-karla fonts-cabin fonts-dosis fonts-beteckna fonts-osifont fonts-lato)
packages=(build-essential cmake pkg-config ccache
          libtorch-dev libgloo-dev libopenblas0-openmp libdnnl-dev
          libopencv-dev liblmdb-dev libonnx-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev
          "${fonts[@]}")
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang)  # libFuzzer comes with Debian's clang
fi
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-torchvision python3-pil python3-lmdb python3-onnx chromium)
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

# onnxruntime for the export tests, from the npm registry at the version package-lock.json pins. Its
# postinstall step only downloads GPU providers from elsewhere, so it is skipped: the CPU runtime is in the package.
install_onnxruntime() {
  local onnx_tests
  onnx_tests="$(cd "$(dirname "$0")/.." && pwd)/tests/onnx"
  [[ "${1:-}" == "--reference" && ! -d "$onnx_tests/node_modules/onnxruntime-node" ]] || return 0
  echo "setup: installing onnxruntime-node into tests/onnx (npm)"
  (cd "$onnx_tests" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
}

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  install_onnxruntime "${1:-}"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_onnxruntime "${1:-}"
echo "setup: done"
