#!/usr/bin/env python3
"""A study-style answer extractor, for comparison with `anesbench extract`.

This re-implements, in our own code, the behaviour the AnesBench study's evaluation
script is described as having: it reads the response, takes a letter, and when it finds
none it always guesses one. In outline:

1. every option's text found in the response is replaced by that option's letter
   (longest texts first, case-insensitive);
2. a ladder of patterns is tried in order, from answer phrases ("答案：C", "answer is C",
   "C is correct", "C正确") down to a line that is only a letter and, last, any letter
   standing alone; the first pattern that matches anywhere decides, using its LAST match;
3. when no pattern matches, the option whose text is most similar to the response is
   returned: there is no "no answer" outcome.

`<think>` blocks are not removed and negations are only partly recognised, as in the
behaviour described. Usage: study_extractor.py [INPUT.jsonl|-] > OUT.jsonl, with lines
{"options": {"A": "...", ...}, "response": "..."}; each line is written back with
"answer" added.
"""

import difflib
import json
import re
import sys


def letters_for(options):
    return [chr(ord("A") + i) for i in range(len(options))]


def substitute_option_texts(text, options):
    for letter, option in sorted(options.items(), key=lambda kv: len(kv[1]), reverse=True):
        needle = option.rstrip(".")
        if needle:
            text = re.sub(re.escape(needle), letter, text, flags=re.IGNORECASE)
    return text


def ladder(letters):
    one = "|".join(letters)
    cls = "".join(letters)
    return [
        # Chinese answer phrase with a colon: 答案：C, 选项：C
        rf"(?:答案|选项|正确答案|正确选项|选择)[:：]+\S*?({one})(?![A-Za-z])",
        # English answer phrase: answer is C, choose C, choice: C (not after "not")
        rf"(?:[Cc]hoose|(?:[Aa]nswer|[Cc]hoice)(?![^{cls}]{{0,20}}?(?:n't|not))[^{cls}]{{0,10}}?(?:is|:|be)?)[^{cls}]{{0,20}}?(?<![A-Za-z])({one})(?![A-Za-z])",
        # Chinese "答案是/为 C"
        rf"(?:答案|选项|正确答案|正确选项|选择)[是为]+\S{{0,8}}?({one})",
        # "C ... 正确" unless negated
        rf"(?<![A-Za-z])({one})(?![A-Za-z])(?![^{cls}]*?(?:不|非))[^{cls}]{{0,8}}(?:正确|准确|符合)",
        # "C ... correct/right" unless "not correct"
        rf"(?<![A-Za-z])({one})(?![A-Za-z])(?![^{cls}]{{0,8}}?(?:n't|not)\s*(?:correct|right))[^{cls}]{{0,10}}?(?:correct|right)",
        # a line that is only the letter
        rf"(?m)^\s*({one})\s*[.。,，:：]?\s*$",
        # a line starting with the letter
        rf"(?m)^({one})(?:[.,:]|$)",
        # any letter standing alone
        rf"(?<![A-Za-z])({one})(?![A-Za-z=])",
    ]


def most_similar(text, options):
    keys = list(options)
    scores = [difflib.SequenceMatcher(None, text.lower(), options[k].lower()).ratio() for k in keys]
    return keys[max(range(len(keys)), key=lambda i: scores[i])]


def extract(response, options):
    if not options:
        return None
    letters = letters_for(options)
    text = substitute_option_texts(response or "", options)
    for pattern in ladder(letters):
        found = re.findall(pattern, text)
        if found:
            return found[-1].upper()
    return most_similar(response or "", options)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "-"
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    for line in stream:
        if not line.strip():
            continue
        record = json.loads(line)
        options = record["options"]
        if isinstance(options, list):
            options = {chr(ord("A") + i): t for i, t in enumerate(options)}
        options = {k.upper(): v for k, v in sorted(options.items())}
        record["answer"] = extract(record.get("response"), options)
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
