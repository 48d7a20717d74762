#!/usr/bin/env bash
# Agreement with hand labels: `anesbench extract` against a study-style extractor
# (scripts/study_extractor.py) over the fixture file (or FILE given as $1).
#
#   scripts/compare_extractors.sh [CASES.jsonl]
#
# Uses $ANESBENCH if set, else target/debug/anesbench (built without the llama feature
# when missing). Prints, per extractor: agreement with the labels, answers invented where
# the label is "no answer", wrong letters, and answers missed.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-crates/anesbench-core/tests/fixtures/extract_cases.jsonl}"
bin="${ANESBENCH:-target/debug/anesbench}"
if [[ ! -x "$bin" ]]; then
  cargo build -q -p anesbench --no-default-features
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" extract "$cases" -o "$tmp/ours.jsonl" 2>/dev/null
python3 scripts/study_extractor.py "$cases" > "$tmp/study.jsonl"
python3 - "$tmp/ours.jsonl" "$tmp/study.jsonl" <<'PY'
import json, sys

def score(path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    agree = invented = wrong = missed = 0
    for r in rows:
        want, got = r["expected"], r["answer"]
        if want == got:
            agree += 1
        elif want is None:
            invented += 1
        elif got is None:
            missed += 1
        else:
            wrong += 1
    return len(rows), agree, invented, wrong, missed

print(f"{'extractor':<22}{'cases':>6}{'agree':>8}{'rate':>8}{'invented':>10}{'wrong':>7}{'missed':>8}")
for name, path in [("anesbench extract", sys.argv[1]), ("study-style", sys.argv[2])]:
    n, a, i, w, m = score(path)
    print(f"{name:<22}{n:>6}{a:>8}{a / n:>8.1%}{i:>10}{w:>7}{m:>8}")
PY
