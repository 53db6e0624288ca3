#!/usr/bin/env bash
# civreg quick start: install dependencies, build, and serve the default data
# directory (./civreg-data, created on first run) on http://127.0.0.1:8080/.
# Usage: install/start.sh [extra `civreg serve` options]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/install/deps.sh" --no-browser
"$top/install/build.sh" "$top/build"
cd "$top"
if [ ! -e civreg-data ]; then
    "$top/build/civreg" init --data civreg-data
fi
exec "$top/build/civreg" serve --data civreg-data "$@"
