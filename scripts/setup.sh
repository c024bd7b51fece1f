#!/usr/bin/env bash
# Installs the system packages certrail needs to build and test, if they are missing.
# SQLite is bundled into the binary; PostgreSQL support links libpq; the label-sheet test
# renders PDFs with pdftoppm (poppler-utils); labels are read back with zbarimg (zbar-tools);
# page tests drive Debian's Chromium (with a CJK font so Chinese renders) from Node.js; the
# book is built with mdbook; the cluster drill puts HAProxy (and the nginx sample) in front of
# three instances on throwaway PostgreSQL clusters it drives with psql; the deployment files
# are checked with promtool (Debian's prometheus) and systemd-analyze.
set -euo pipefail

packages=(libpq-dev pkg-config poppler-utils zbar-tools chromium fonts-wqy-microhei haproxy nginx-light postgresql-client gettext-base prometheus systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (its npm then conflicts with Debian's): only the
# commands matter.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# The book (docs/, built by scripts/docs.sh): mdbook from crates.io, compiled once into
# ~/.cargo/bin without its default features (serve, watch, search): only `mdbook build` is used.
case "$(mdbook --version 2>/dev/null)" in
  "mdbook v0.5."*) ;;
  *) cargo install mdbook --version 0.5.4 --locked --no-default-features ;;
esac
