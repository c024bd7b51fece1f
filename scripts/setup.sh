#!/usr/bin/env bash
# Installs the system packages certrail needs to build and test, if they are missing.
# SQLite is bundled into the binary; PostgreSQL support links libpq; the label-sheet test
# renders PDFs with pdftoppm (poppler-utils).
set -euo pipefail

packages=(libpq-dev pkg-config poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
