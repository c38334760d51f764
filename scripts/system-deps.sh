#!/usr/bin/env bash
# Debian packages Hukou's tests and demo need: Chromium for the browser tests,
# CJK fonts so Chinese renders on a bare machine, PostgreSQL client tools, npm for the
# console's scripts (scripts/assets.sh).
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || packages+=(fonts-noto-cjk fontconfig)
command -v psql >/dev/null 2>&1 || packages+=(postgresql-client)
command -v npm >/dev/null 2>&1 || packages+=(npm)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages: ${packages[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
