#!/usr/bin/env bash
# pnpm bench:peers: installs this folder's own dependencies (Emmett, from its committed lockfile,
# outside the workspace) when they are missing, then runs the side-by-side with the root's tsx. The
# tsconfig here maps @annals/* to the workspace's sources, as the root's does for pnpm bench.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ ! -d node_modules ]; then
  npx -y pnpm@12.4.2 install --ignore-workspace --frozen-lockfile --prefer-offline
fi
exec ../../node_modules/.bin/tsx --tsconfig tsconfig.json main.ts "$@"
