#!/usr/bin/env python3
"""Client-side cost of the study's evaluation loop, for `anesbench bench http`.

The AnesBench study drives an OpenAI-compatible server with the `openai` Python package
from a `ThreadPoolExecutor`, reads the answer letter out of each reply with a ladder of
regular expressions, and writes one JSON line per sample. This script does the same
against a given server, with `--concurrency` threads (as many requests in flight as the
Rust side), and reports its own wall time and CPU time (all threads, via
`time.process_time()`), after a warm-up that is not counted.

The letter is extracted by `study_extractor.extract` (next to this script): the
study-style ladder (option texts replaced by their letters, answer phrases first, a
lone letter last, the most similar option when nothing matches).

Input (`--input`, read before the clock starts): JSONL, one item per line,
`{"id", "lang", "messages": [{"role", "content"}...], "options": {"A": ...}, "target"}`,
the exact messages `anesbench` sends for that item.
Output: `--output` gets one JSON line per sample `{"id", "lang", "target", "response",
"answer", "correct", "finish_reason", "prompt_tokens", "completion_tokens",
"latency_ms", "error"}`, written as each sample finishes; stdout gets one JSON line
`{"requests", "errors", "wall_s", "cpu_s", "threads", "openai_version"}`. Exit status 3
(with `{"error": ...}`) when `openai` is not importable.
"""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study_extractor import extract  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="server base URL ending in /v1")
    ap.add_argument("--model", default="fake-model")
    ap.add_argument("--input", required=True, help="items and their messages (JSONL)")
    ap.add_argument("--output", required=True, help="one JSON line per sample is written here")
    ap.add_argument(
        "--concurrency", "--threads", dest="concurrency", type=int, default=16,
        help="thread-pool size = requests in flight (the study used 16)",
    )
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--max-tokens", type=int, default=2048)
    ap.add_argument("--warmup", type=int, default=None, help="uncounted requests first (default: --concurrency)")
    args = ap.parse_args()

    try:
        import openai
    except ImportError as e:
        print(json.dumps({"error": f"the `openai` package is not importable ({e}); install it with `pip install openai`"}))
        return 3

    with open(args.input, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    # A local test server needs no key; the client insists on one being set.
    client = openai.OpenAI(base_url=args.base_url, api_key="unused", timeout=60.0)

    def ask(item):
        return client.chat.completions.create(
            model=args.model,
            messages=item["messages"],
            temperature=args.temperature,
            max_tokens=args.max_tokens,
        )

    lock = threading.Lock()
    out = None

    def one(item) -> bool:
        t0 = time.perf_counter()
        record = {"id": item["id"], "lang": item["lang"], "target": item["target"]}
        ok = True
        try:
            r = ask(item)
            choice = r.choices[0]
            response = choice.message.content
            answer = extract(response, item["options"])
            record.update(
                response=response,
                answer=answer,
                correct=answer == item["target"],
                finish_reason=choice.finish_reason,
                prompt_tokens=r.usage.prompt_tokens if r.usage else None,
                completion_tokens=r.usage.completion_tokens if r.usage else None,
                error=None,
            )
        except Exception as e:  # counted and recorded, like the study's loop that logs and moves on
            ok = False
            record.update(response=None, answer=None, correct=False, error=str(e))
        record["latency_ms"] = (time.perf_counter() - t0) * 1000.0
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with lock:
            out.write(line)
        return ok

    warmup = args.concurrency if args.warmup is None else args.warmup
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(ask, items[: min(warmup, len(items))]))
        cpu0, t0 = time.process_time(), time.perf_counter()
        with open(args.output, "w", encoding="utf-8") as out:
            results = list(pool.map(one, items))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    print(
        json.dumps(
            {
                "requests": len(items),
                "errors": results.count(False),
                "wall_s": wall,
                "cpu_s": cpu,
                "threads": args.concurrency,
                "openai_version": openai.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
