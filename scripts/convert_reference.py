#!/usr/bin/env python3
"""Reference corpus converter for `anesbench bench convert`.

Does what the study's AnesCorpus converter does: read every Parquet file into pandas,
concatenate them, and write one indented JSON array of {"text": ...} records.
Memory therefore grows with the corpus. Needs `pip install pandas pyarrow`.

usage: convert_reference.py --input DIR --out FILE [--column text]
"""
import argparse
import glob
import json
import os
import sys

import pandas as pd


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True, help="directory of .parquet files")
    ap.add_argument("--out", required=True, help="output JSON file")
    ap.add_argument("--column", default="text")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.input, "*.parquet")))
    if not files:
        print(f"no .parquet files in {args.input}", file=sys.stderr)
        return 1
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    records = [{"text": t} for t in df[args.column].tolist() if isinstance(t, str) and t.strip()]
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(records, fh, ensure_ascii=False, indent=4)
    print(json.dumps({"rows_read": len(df), "rows_written": len(records)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
