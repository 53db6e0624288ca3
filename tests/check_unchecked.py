#!/usr/bin/env python3
"""Fail when non-test C code drops the result of json_object_set_new,
json_array_append_new, json_object_set, json_array_append or snprintf.

A call that starts a statement (the previous line ends a statement, opens or
closes a block, or is an if/else/for/while header) throws its result away: a
failed insertion would give a silently shorter answer, a truncated snprintf a
wrong name or path. Write `bad |= f(...) != 0;` (then report out of memory),
test the result in a condition, or, for an snprintf that provably cannot
truncate, `(void)snprintf(...)` with a comment saying why.

Usage: check_unchecked.py [--expect N] ROOT   (lists the offending lines; exit 1 if
any, or with --expect, unless exactly N are found: for the planted self-test)
"""
import os
import re
import sys

CALL = re.compile(r"^\s*(json_object_set_new|json_array_append_new|json_object_set|"
                  r"json_array_append|snprintf)\(")
HEADER = re.compile(r"^(\}\s*)?(if|else if|for|while)\b.*\)$")
SKIP_DIRS = {"tests", "bench", "build", ".git", "third_party", "vendor"}

# Files allowed a number of such calls (none today; keep it that way).
PENDING = {}


def statement_start(prev):
    return (prev == "" or prev.endswith((";", "{", "}", ":")) or prev == "else"
            or HEADER.match(prev) is not None)


def scan(path):
    hits, prev = [], ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if CALL.match(line) and statement_start(prev):
                hits.append(n)
            if s and not s.startswith(("//", "/*", "*", "#")):
                prev = s
    return hits


def main():
    args = sys.argv[1:]
    expect = None
    if len(args) >= 2 and args[0] == "--expect":
        expect, args = int(args[1]), args[2:]
    root = args[0] if args else "."
    bad = total = 0
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            hits = scan(path)
            total += len(hits)
            if len(hits) > PENDING.get(rel, 0):
                bad += 1
                for n in hits:
                    print(f"{rel}:{n}: result of the call is not checked")
    if expect is not None:
        print(f"{total} unchecked call(s) found, {expect} planted")
        return 0 if total == expect else 1
    if bad:
        print(f"{bad} file(s) with unchecked results (see tests/check_unchecked.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
