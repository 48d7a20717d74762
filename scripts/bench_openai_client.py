#!/usr/bin/env python3
"""Client-side cost of the study's evaluation design, for `anesbench bench http`.

The AnesBench study drives an OpenAI-compatible server with the `openai` Python package
from a 16-thread `ThreadPoolExecutor`. This script does the same against a given server
and reports its own wall time and CPU time (all threads, via `time.process_time()`),
after a warm-up that is not counted.

Input (stdin): JSON `{"model": str, "system": str, "user": str, "temperature": float,
"max_tokens": int}`; `{i}` in `user` is replaced by the request number, so every prompt
differs as in a real run.
Output (stdout): one JSON line `{"requests", "errors", "wall_s", "cpu_s", "threads",
"openai_version"}`. Exit status 3 (with `{"error": ...}`) when `openai` is not importable.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="server base URL ending in /v1")
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=64)
    args = ap.parse_args()

    try:
        import openai
    except ImportError as e:
        print(json.dumps({"error": f"the `openai` package is not importable ({e}); install it with `pip install openai`"}))
        return 3

    spec = json.load(sys.stdin)
    # A local test server needs no key; the client insists on one being set.
    client = openai.OpenAI(base_url=args.base_url, api_key="unused", timeout=60.0)

    def one(i: int) -> bool:
        try:
            r = client.chat.completions.create(
                model=spec["model"],
                messages=[
                    {"role": "system", "content": spec["system"]},
                    {"role": "user", "content": spec["user"].replace("{i}", str(i))},
                ],
                temperature=spec["temperature"],
                max_tokens=spec["max_tokens"],
            )
            return r.choices[0].message.content is not None or r.choices[0].finish_reason is not None
        except Exception:  # counted, like the study's loop that logs and moves on
            return False

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(one, range(args.warmup)))
        cpu0, t0 = time.process_time(), time.perf_counter()
        results = list(pool.map(one, range(args.requests)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    print(
        json.dumps(
            {
                "requests": args.requests,
                "errors": results.count(False),
                "wall_s": wall,
                "cpu_s": cpu,
                "threads": args.threads,
                "openai_version": openai.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
