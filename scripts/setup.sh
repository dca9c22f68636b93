#!/usr/bin/env bash
# Installs the Debian 12 packages cargovision needs, only those missing. Idempotent and quiet when all
# are present. Usage: scripts/setup.sh [--reference]   (--reference adds python3-torchvision, -pil and -lmdb,
# used by the reference tests (torchvision, Pillow, python-lmdb) and scripts/bench.sh; --fuzz adds clang for
# scripts/fuzz.sh)
set -euo pipefail

packages=(build-essential cmake pkg-config ccache
          libtorch-dev libopenblas0-openmp libdnnl-dev
          libopencv-dev liblmdb-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev
          fonts-dejavu-core fonts-dejavu-extra fonts-liberation)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang)  # libFuzzer comes with Debian's clang
fi
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-torchvision python3-pil python3-lmdb)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
