#!/usr/bin/env bash
# The out-of-the-box run: prepare the machine, build, and evaluate the built-in demo set
# with the embedded model (loglik mode). Extra arguments go to `anesbench eval`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p anesbench
exec target/release/anesbench eval "$@"
