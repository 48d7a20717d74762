#!/usr/bin/env bash
# Evaluate the demo set against a real llama.cpp server (opt-in; not part of CI).
#
# Starts `llama-cpp-python[server]` (PyPI) on 127.0.0.1 with the demo GGUF
# ($ANESBENCH_HOME/models/gemma-3-270m-q4_k_m.gguf, fetched by scripts/fetch-demo-model.sh),
# waits for /v1/models, then runs `anesbench eval` twice against it:
#   1. generate mode over /v1/chat/completions (answer extraction),
#   2. loglik mode over /v1/completions with logprobs (option-letter argmax).
# Each run directory is then resumed once more, which must send no request and exit 0.
#
# Usage: bash scripts/eval-llama-server.sh [extra `anesbench eval` flags, e.g. --limit 20]
# Env:   ANESBENCH_HOME (model + venv cache), PORT (default 18080),
#        LLAMA_CPP_PYTHON_VERSION (default 0.3.16; venv: $ANESBENCH_HOME/venv-llama-server-<version>),
#        CHAT_FORMAT (llama-cpp-python --chat_format, default gemma: the demo GGUF carries no
#        tokenizer.chat_template, so without it the server logs "Using fallback chat format:
#        llama-2" and wraps messages in `[INST] <<SYS>>`, which the model then continues;
#        llama-cpp-python's `gemma` format drops system messages, as Gemma has no system role),
#        ANESBENCH_BIN (default: build target/release/anesbench without the llama feature),
#        OUT (default runs/llama-server-<time>), CONCURRENCY (default 1: llama-cpp-python
#        serves one request at a time).
# Known: llama-cpp-python 0.3.36 built from source here loaded this GGUF, answered /v1/models,
# then segfaulted inside Llama.eval -> llama_decode on the first completion (also outside the
# server, and with flash_attn/n_batch/threads/swa_full varied); anesbench then recorded every
# sample as an error and exited 3, as designed. 0.3.16 works with this GGUF, so it is pinned
# below, in a venv named after the version so a broken unpinned venv is never reused.
# With 0.3.16 on 2 busy cores the full demo set (128) took ~19 min in generate mode (0%: the
# 270m base model echoes the question until max_tokens) and ~2 min in loglik mode (21.1%).
# That run found two echoed option lines, cut at max_tokens, scored as answers by the
# final-line rule; replies cut at the token limit are now read for answer statements only.
# Building llama-cpp-python compiles llama.cpp from source: expect 10-20 minutes on 2 cores
# the first time (needs cmake and a C++ compiler); later runs reuse the venv.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
home="${ANESBENCH_HOME:-$HOME/.cache/anesbench}"
port="${PORT:-18080}"
out="${OUT:-$root/runs/llama-server-$(date -u +%Y%m%d-%H%M%S)}"
lcp_version="${LLAMA_CPP_PYTHON_VERSION:-0.3.16}"
venv="$home/venv-llama-server-$lcp_version"

model="$(bash "$root/scripts/fetch-demo-model.sh")"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
  echo "eval-llama-server: installing llama-cpp-python[server]==$lcp_version (compiles llama.cpp)" >&2
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "llama-cpp-python[server]==$lcp_version"
fi

bin="${ANESBENCH_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --no-default-features -p anesbench >&2)
  bin="$root/target/release/anesbench"
fi

log="$(mktemp -t llama-server.XXXXXX.log)"
"$venv/bin/python" -m llama_cpp.server --model "$model" --model_alias gemma-3-270m \
  --host 127.0.0.1 --port "$port" --n_ctx 4096 --logits_all true \
  --chat_format "${CHAT_FORMAT:-gemma}" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "eval-llama-server: the server exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/v1/models" >/dev/null || { echo "eval-llama-server: server not ready after 120 s; log: $log" >&2; exit 1; }

endpoint="http://127.0.0.1:$port"
run() {
  local dir="$1"; shift
  "$bin" eval --dataset demo --endpoint "$endpoint" --out "$dir" --concurrency "${CONCURRENCY:-1}" --timeout 300 "$@"
}

echo "== generate (chat) -> $out/generate" >&2
run "$out/generate" --max-tokens 256 --temperature 0 --seed 0 "$@"
echo "== loglik (completions + logprobs) -> $out/loglik" >&2
run "$out/loglik" --mode loglik "$@"

for d in generate loglik; do
  echo "== resume $d: nothing left to do" >&2
  extra=()
  [ "$d" = loglik ] && extra=(--mode loglik) || extra=(--max-tokens 256 --temperature 0 --seed 0)
  run "$out/$d" "${extra[@]}" "$@" >/dev/null
  lines=$(wc -l <"$out/$d/samples.jsonl")
  echo "$d: $lines samples in $out/$d/samples.jsonl" >&2
done
