#!/usr/bin/env bash
# Front-end assets: htmx and ECharts from the npm registry (versions pinned in
# package-lock.json), copied into the package's static folder so the console serves
# them itself — no page ever loads a script from outside 127.0.0.1.
# Idempotent: skips npm when the copies match the lock file's versions.
set -euo pipefail
cd "$(dirname "$0")/.."

vendor=src/hukou/web/static/vendor
stamp="$vendor/.lock-sha256"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -f "$vendor/htmx.min.js" ] && [ -f "$vendor/echarts.min.js" ]; then
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the console's scripts (Debian: apt-get install npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$vendor/echarts.min.js"
echo "$want" > "$stamp"
echo "console assets: htmx $(node -p "require('./node_modules/htmx.org/package.json').version"), echarts $(node -p "require('./node_modules/echarts/package.json').version")"
