#!/usr/bin/env bash
# civreg: install every Debian package the build, the tests and the runtime need.
# Non-interactive and idempotent; runs as root or through sudo.
# Usage: install/deps.sh [--no-browser]   (--no-browser skips Chromium and npm test tools)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

with_browser=1
for a in "$@"; do
    case "$a" in
        --no-browser) with_browser=0 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "deps.sh: unknown option '$a'" >&2; exit 2 ;;
    esac
done

# Build and runtime libraries (one line per dependency the design names).
packages=(
    build-essential cmake pkg-config ca-certificates
    libsqlite3-dev sqlite3
    libsodium-dev
    libssl-dev openssl
    libzbar-dev zbar-tools
    libhpdf-dev
    libcivetweb-dev
    libjansson-dev
    libqrencode-dev
    qrencode
    libpng-dev libjpeg-dev libtiff-dev
    libunistring-dev
    # the national tier: PostgreSQL 15 server (tests start their own), libpq, pg_trgm
    postgresql postgresql-15 postgresql-client-common postgresql-contrib libpq-dev
    fonts-ocr-b fontforge-nox fonts-dejavu-core
    # tests, fuzzing, benchmarks
    libcmocka-dev clang libclang-rt-14-dev
    curl python3 wrk poppler-utils imagemagick xxd
    qrencode
    # chip reader and virtual chip, issuance/reader: PC/SC, the vsmartcard
    # virtual reader, OpenPACE, and the independent ePass emulation
    pcscd libpcsclite-dev vsmartcard-vpcd libeac-dev python3-virtualsmartcard python3-pycryptodome
)
# Node.js runs the independent checkers (npm mrz) and the browser tests. A
# machine may already carry its own Node.js build, which conflicts with
# Debian's npm package: only install them when the commands are missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ "$with_browser" = 1 ]; then
    packages+=(chromium)
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "deps.sh: must run as root or with sudo available" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get update -q; then
        echo "deps.sh: apt-get update failed" >&2
        exit 1
    fi
    if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        echo "deps.sh: apt-get install failed for: ${missing[*]}" >&2
        exit 1
    fi
fi

# npm test tools (independent MRZ checker, browser driver, axe-core accessibility audit),
# pinned in tests/package.json.
if [ -f "$top/tests/package.json" ] && command -v npm >/dev/null 2>&1; then
    if [ ! -d "$top/tests/node_modules" ] || [ "$top/tests/package.json" -nt "$top/tests/node_modules" ]; then
        if ! (cd "$top/tests" && npm install --no-audit --no-fund --loglevel=error); then
            echo "deps.sh: npm install in tests/ failed" >&2
            exit 1
        fi
        touch "$top/tests/node_modules"
    fi
fi
echo "deps.sh: all dependencies present"
