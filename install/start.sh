#!/usr/bin/env bash
# civreg quick start: install dependencies, build, and serve a demo office in
# ./civreg-data on http://127.0.0.1:8080/. On first run `civreg serve --demo`
# creates it: one office, the users admin, clerk, clerk2, registrar, enrol,
# approver, operator and auditor (password "demo", demo mode only) and a few
# hundred signed synthetic birth records. An existing ./civreg-data is served
# as it is. The server prints the URL and the demo sign-ins.
# Usage: install/start.sh [extra `civreg serve` options]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/install/deps.sh" --no-browser
"$top/install/build.sh" "$top/build"
cd "$top"
exec "$top/build/civreg" serve --demo --data civreg-data "$@"
