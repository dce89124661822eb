#!/usr/bin/env bash
# npm run bench [-- -c 64 -d 10s -t 2 --warmup 3s --rows hello-bun,sluice-bun --all --json out.json --list]
# Runs from the repository root with the bun installed in node_modules (or on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
[ -x "$BUN" ] || BUN=$(command -v bun) || { echo "bun not found: npm install first" >&2; exit 1; }
exec "$BUN" bench/run.ts "$@"
