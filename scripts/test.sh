#!/usr/bin/env bash
# The test command: prepare the machine (packages, demo model), then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --all-targets "$@"
