#!/usr/bin/env python3
"""Every error code the server can send has its text in English and French.

The web server answers a refusal with {"error": {"code", "message"}}; the
browser shows the catalogue's text for the code ("error.<code>" in
web/assets/i18n/<lang>*.json) in the user's language. This check collects
the codes from the sources: the literal codes given to web_send_error /
web_send_error_hdr (and the variables they are chosen into), the codes set
with err_code(), the password problem codes, the codes the error kinds map
to, and the JSON error bodies built by hand ("code", "...") — and fails
when a catalogue lacks one, or when the English and French catalogues do
not have the same keys.

Usage: check_error_codes.py SOURCE_ROOT [--catalogue DIR] [--expect-fail]
"""
import json
import pathlib
import re
import sys

KIND_CODES = {"rejected", "not_found", "forbidden", "conflict", "busy", "internal"}
LITERAL = re.compile(r'"([a-z][a-z0-9_]*)"')


def call_args(text, start):
    """The text of the call's arguments from START (just after '(')."""
    depth, i = 1, start
    while i < len(text) and depth:
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == '\\' else 1
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        i += 1
    return text[start:i - 1]


def split_args(args):
    out, depth, cur, i = [], 0, '', 0
    while i < len(args):
        c = args[i]
        if c == '"':
            j = i + 1
            while j < len(args) and args[j] != '"':
                j += 2 if args[j] == '\\' else 1
            cur += args[i:j + 1]
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        if c == ',' and depth == 0:
            out.append(cur)
            cur = ''
        else:
            cur += c
        i += 1
    out.append(cur)
    return out


def codes_in(root):
    codes = set(KIND_CODES)
    for path in sorted(root.rglob('*.c')):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(('build', 'tests/')) or '/build' in rel:
            continue
        text = path.read_text(encoding='utf-8', errors='replace')
        for m in re.finditer(r'\bweb_send_error(?:_hdr)?\s*\(', text):
            args = split_args(call_args(text, m.end()))
            if len(args) < 3 or 'const char *code' in args[2]:
                continue
            code_arg = args[2]
            found = LITERAL.findall(code_arg)
            if not found and re.fullmatch(r'\s*[a-z_]+\s*', code_arg):
                # a variable: the literals assigned to it in this file
                var = code_arg.strip()
                found = re.findall(r'\b' + re.escape(var) + r'\s*=\s*"([a-z][a-z0-9_]*)"', text)
            codes.update(found)
        for m in re.finditer(r'\berr_code\s*\(', text):
            args = split_args(call_args(text, m.end()))
            if len(args) >= 2:
                codes.update(LITERAL.findall(args[1]))
        codes.update(re.findall(r'"code",\s*"([a-z][a-z0-9_]*)"', text))
        if rel.endswith('registry/password.c'):
            m = re.search(r'problem_codes\[\]\s*=\s*\{([^}]*)\}', text)
            if m:
                codes.update(c for c in LITERAL.findall(m.group(1)) if c != 'password_ok')
            codes.update(re.findall(r'return "(password_[a-z_]+)"', text))
    codes.discard('type')  # openapi.c: the schema's "code": {"type": ...}
    return codes


def catalogue(folder, lang):
    table = {}
    for f in sorted(folder.glob(f'{lang}*.json')):
        table.update(json.loads(f.read_text(encoding='utf-8')))
    return table


def main(argv):
    root = pathlib.Path(argv[1])
    folder = root / 'web' / 'assets' / 'i18n'
    if '--catalogue' in argv:
        folder = pathlib.Path(argv[argv.index('--catalogue') + 1])
    expect_fail = '--expect-fail' in argv
    codes = codes_in(root)
    en, fr = catalogue(folder, 'en'), catalogue(folder, 'fr')
    problems = []
    for code in sorted(codes):
        for lang, table in (('en', en), ('fr', fr)):
            if 'error.' + code not in table:
                problems.append(f'{lang}: no text for the server error code "{code}" (key error.{code})')
    for key in sorted(set(en) ^ set(fr)):
        problems.append(f'key "{key}" is in only one of the English and French catalogues')
    if len(codes) < 20:
        problems.append(f'only {len(codes)} codes found in {root}: the scan is broken')
    for p in problems:
        print(p)
    print(f'{len(codes)} error codes checked against {folder}')
    if expect_fail:
        return 0 if problems else 1
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
