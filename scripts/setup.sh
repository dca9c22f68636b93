#!/usr/bin/env bash
# Installs the Debian 12 packages cargovision needs, only those missing. Idempotent and quiet when all
# are present. Usage: scripts/setup.sh [--reference]   (--reference adds python3-torchvision, -pil and -lmdb
# and chromium (the headless check of the HTML reports),
# used by the reference tests (torchvision, Pillow, python-lmdb) and scripts/bench.sh; --fuzz adds clang for
# scripts/fuzz.sh)
set -euo pipefail

# Free fonts the code-crop generator draws with (src/synth/font_catalog.cpp keeps their upright sans, mono,
# condensed and stencil faces): DIN-like, grotesque, geometric, technical (ISO 3098) and stencil lettering.
fonts=(fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-freefont-ttf fonts-croscore
       fonts-roboto-unhinted fonts-open-sans fonts-urw-base35 fonts-allerta fonts-b612 fonts-bebas-neue
       fonts-league-spartan fonts-hack fonts-firacode fonts-jetbrains-mono fonts-cantarell fonts-noto-mono fonts-go
       fonts-clear-sans fonts-jura fonts-karla fonts-cabin fonts-dosis fonts-beteckna fonts-osifont fonts-lato)
packages=(build-essential cmake pkg-config ccache
          libtorch-dev libopenblas0-openmp libdnnl-dev
          libopencv-dev liblmdb-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev
          "${fonts[@]}")
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang)  # libFuzzer comes with Debian's clang
fi
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-torchvision python3-pil python3-lmdb chromium)
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
