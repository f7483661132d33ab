#!/usr/bin/env bash
# Quickstart: set up whatever is missing, then start spritesd in the foreground with the
# embedded SQLite store. The first start prints an admin token and configures the `sprite` CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo
exec node --conditions=@sprites/source --import tsx packages/server/src/main.ts serve "$@"
