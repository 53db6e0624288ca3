#!/usr/bin/env python3
"""Fails when a module includes a header of a module above it.

civreg's modules are layered (docs/architecture.md). The table below is the
declared graph: each module (a folder, or a part of issuance/) names the
modules whose headers it may include. A #include "x/y.h" is checked against
the module of the including file; #include <lib.h> of a third-party library
is checked against the modules that own the library. Inside issuance/, a
part is used through its one public header (issuance/icao/icao.h, ...),
except the few headers the table lets a part above see. Tests, benchmarks
and fuzz targets are not modules and are not checked.

A __has_include("x/y.h") of our own tree must name a header that exists.

Usage: check_layers.py [--expect FILE] ROOT
  exit 0: no violation (or, with --expect, exactly the violations listed in
  FILE, one "path: header" a line); 1: violations; 2: usage or I/O error.
"""
import os
import re
import sys

# module: the modules whose headers it may include (itself implied).
LAYERS = {
    'core': [],
    'db': ['core'],
    'scanner': ['db', 'core'],
    'registry': ['db', 'core'],
    'registry/national': ['registry', 'db', 'core'],
    'issuance/icao': ['scanner', 'core'],
    'issuance/pki': ['issuance/icao', 'registry', 'db', 'core'],  # registry: the audit's PKI projection
    'issuance/print': ['issuance/icao', 'scanner', 'core'],
    'issuance/passport': ['issuance/pki', 'issuance/print', 'issuance/icao', 'registry', 'db',
                          'core'],
    'issuance/reader': ['issuance/pki', 'issuance/icao', 'db', 'core'],
    'web': ['issuance/passport', 'issuance/pki', 'issuance/print', 'issuance/icao',
            'issuance/reader', 'registry/national', 'registry', 'scanner', 'db', 'core'],
    'cli': ['web', 'issuance/passport', 'issuance/pki', 'issuance/print', 'issuance/icao',
            'issuance/reader', 'registry/national', 'registry', 'scanner', 'db', 'core'],
}

# The one public header of each issuance part, and the other headers a
# named part above may include (OpenSSL-typed internals the PKI signs with).
PUBLIC = {
    'issuance/icao': 'issuance/icao/icao.h',
    'issuance/pki': 'issuance/pki/pki.h',
    'issuance/print': 'issuance/print/print.h',
    'issuance/passport': 'issuance/passport/passport.h',
}
FRIENDS = {
    'issuance/icao/sod.h': ['issuance/pki'],
    'issuance/icao/cert.h': ['issuance/pki'],
    # the national tier replays district events with the registry's own internals
    'registry/registry_int.h': ['registry/national'],
}

# Third-party headers (prefix of the <...> name): the modules that own them.
OWNERS = {
    'sqlite3.h': ['db', 'registry', 'scanner', 'issuance/pki', 'issuance/passport'],
    'hpdf.h': ['issuance/print'],
    'qrencode.h': ['issuance/print'],
    'civetweb.h': ['web', 'registry/national'],
    'zbar.h': ['scanner'],
    'png.h': ['scanner'],
    'jpeglib.h': ['scanner'],
    'tiffio.h': ['scanner'],
    # core: only the server side of TLS (core/tls.c), shared by both servers
    'openssl/': ['core', 'issuance/icao', 'issuance/pki', 'issuance/reader', 'web',
                 'registry/national'],
}

TOP = ['core', 'db', 'scanner', 'registry', 'issuance', 'web', 'cli']
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
HAS_INCLUDE = re.compile(r'__has_include\s*\(\s*"([^"]+)"\s*\)')


def module_of(rel):
    """The module of a path relative to ROOT, or None outside the modules."""
    parts = rel.split('/')
    if parts[0] not in TOP:
        return None
    if parts[0] == 'issuance':
        if len(parts) < 3:
            return 'issuance'  # a file directly in issuance/: no part declared
        return 'issuance/' + parts[1]
    if parts[0] == 'registry' and len(parts) >= 3 and parts[1] == 'national':
        return 'registry/national'  # the national tier: the registry over PostgreSQL and HTTP
    return parts[0]


def header_module(inc):
    """The module a project header "x/y.h" belongs to (None: not ours)."""
    return module_of(inc) if '/' in inc else None


def check_file(root, rel, mod, out):
    try:
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
            lines = f.readlines()
    except OSError as e:
        print('layers: cannot read %s: %s' % (rel, e), file=sys.stderr)
        sys.exit(2)
    allowed = LAYERS.get(mod)
    if allowed is None:
        out.append((rel, '(module %s has no row in the layer table)' % mod))
        return
    for n, line in enumerate(lines, 1):
        # A feature test of a header that moved is silently false: the
        # feature disappears from the build. Every one must name a file.
        for h in HAS_INCLUDE.findall(line):
            if header_module(h) is not None and not os.path.isfile(os.path.join(root, h)):
                out.append((rel, h, n, '__has_include of a header that does not exist'))
        m = INCLUDE.match(line)
        if not m:
            continue
        kind, inc = m.groups()
        if kind == '<':
            for lib, owners in OWNERS.items():
                if inc == lib or (lib.endswith('/') and inc.startswith(lib)):
                    if mod not in owners:
                        out.append((rel, inc, n, '%s is owned by %s' % (lib, ', '.join(owners))))
            continue
        target = header_module(inc)
        if target is None:
            continue  # a header of the same folder
        if target == mod:
            continue
        if target not in allowed:
            out.append((rel, inc, n, '%s may include only %s' %
                        (mod, ', '.join([mod] + allowed))))
        elif target in PUBLIC and inc != PUBLIC[target] and mod not in FRIENDS.get(inc, []):
            out.append((rel, inc, n, '%s is used through %s' % (target, PUBLIC[target])))
        elif inc.endswith('_int.h') and mod not in FRIENDS.get(inc, []):
            out.append((rel, inc, n, 'a module\'s _int.h is private to it'))


def scan(root):
    out = []
    for top in TOP:
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(('.c', '.h')):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, '/')
                check_file(root, rel, module_of(rel), out)
    return out


def main(argv):
    expect = None
    args = argv[1:]
    if len(args) == 3 and args[0] == '--expect':
        expect, args = args[1], args[2:]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__, file=sys.stderr)
        return 2
    found = scan(args[0])
    if expect is not None:
        with open(expect, encoding='utf-8') as f:
            want = {l.strip() for l in f if l.strip() and not l.startswith('#')}
        got = {'%s: %s' % (v[0], v[1]) for v in found}
        if got == want:
            print('layers: the %d planted violations were all found, and nothing else' % len(want))
            return 0
        for v in sorted(want - got):
            print('layers: missed %s' % v)
        for v in sorted(got - want):
            print('layers: unexpected %s' % v)
        return 1
    for v in found:
        if len(v) == 2:
            print('%s: %s' % v)
        else:
            print('%s:%d: includes %s: %s' % (v[0], v[2], v[1], v[3]))
    if found:
        print('layers: %d include(s) against the layer table (tests/check_layers.py, '
              'docs/architecture.md)' % len(found))
        return 1
    print('layers: every include follows the layer table')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
