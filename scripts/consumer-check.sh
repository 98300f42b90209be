#!/usr/bin/env bash
# The consumer check: does a project outside this workspace install and run Annals?
#
# 1. Packs every package (prepack builds it), lints each tarball with publint and attw, and runs
#    `pnpm publish --dry-run` (nothing is published). Installs @annals/testing without tsyringe and
#    reflect-metadata and imports it.
# 2. For each supported Node major (CONSUMER_NODE_MAJORS, default "22 24"; the binaries come from the
#    npm registry's `node` package), with a clean HOME and package cache in a temp folder:
#    scaffolds a project from the create-annals tarball, points its @annals/* dependencies at the
#    local tarballs, installs with npm and with pnpm, compiles it with tsc (strict, NodeNext), runs
#    its AggregateSpec and ProjectionSpec tests with vitest (PGlite in the projection spec), and runs
#    it on the server when DATABASE_URL is set and on PGlite (with pnpm: only when it is not set).
#
# Usage: scripts/consumer-check.sh            (or: pnpm check:consumer)
#   CONSUMER_NODE_MAJORS="22"                 only one major
#   CONSUMER_PACKAGE_MANAGERS="npm"           only npm (default "npm pnpm")
#   CONSUMER_KEEP=1                           keep the temp folder
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
MAJORS=${CONSUMER_NODE_MAJORS:-22 24}
MANAGERS=${CONSUMER_PACKAGE_MANAGERS:-npm pnpm}
PACKAGES="core postgres outbox testing console cli create-annals"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/annals-consumer.XXXXXX")
cleanup() { if [ "${CONSUMER_KEEP:-}" = 1 ]; then echo "kept ${WORK}"; else rm -rf "${WORK}"; fi; }
trap cleanup EXIT
PACK="${WORK}/pack"
mkdir -p "${PACK}"

step_start=0
step() { step_start=$(date +%s); echo "== $*"; }
took() { echo "   ($(($(date +%s) - step_start)) s)"; }

pnpm_cmd() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }

step "pack"
for p in ${PACKAGES}; do
  (cd "packages/${p}" && pnpm_cmd pack --pack-destination "${PACK}" >/dev/null)
done
ls -1 "${PACK}"
for t in "${PACK}"/*.tgz; do
  files=$(tar tzf "${t}")
  if grep -qE '^package/(src|dist)/.*\.test\.(ts|js)$' <<<"${files}"; then
    echo "${t} ships test files"; exit 1
  fi
  for f in package/README.md package/LICENSE; do
    grep -qx "${f}" <<<"${files}" || { echo "${t} lacks ${f}"; exit 1; }
  done
  if grep -q '"workspace:' <<<"$(tar xzf "${t}" -O package/package.json)"; then
    echo "${t} still has a workspace: range"; exit 1
  fi
done
# The console ships its built front end (its build script runs vite build before tsc).
# The listing is read whole first: under pipefail, grep -q leaving early fails tar with SIGPIPE.
console_files=$(tar tzf "${PACK}"/annals-console-*.tgz)
grep -qx 'package/dist/web/index.html' <<<"${console_files}" ||
  { echo "the console's tarball lacks its front end (dist/web/index.html)"; exit 1; }
took

step "publint and attw"
for t in "${PACK}"/*.tgz; do
  node_modules/.bin/publint run "${t}" --strict
done
for p in core postgres outbox testing console cli; do
  # ESM-only packages: the CommonJS resolution modes do not apply.
  node_modules/.bin/attw "${PACK}/annals-${p}-"*.tgz --profile esm-only --format table-flipped
done
took

step "pnpm publish --dry-run"
for p in ${PACKAGES}; do
  # The pack step above built every package; --ignore-scripts keeps prepack from building it again.
  (cd "packages/${p}" && pnpm_cmd publish --dry-run --no-git-checks --ignore-scripts >"${WORK}/publish-${p}.log" 2>&1) ||
    { cat "${WORK}/publish-${p}.log"; exit 1; }
  echo "   ${p}: $(tail -n 1 "${WORK}/publish-${p}.log")"
done
took

step "@annals/testing without tsyringe"
# A project that installs the kit without tsyringe and reflect-metadata (optional peers, needed only by
# a CommandSpec with a container) imports it. --legacy-peer-deps: npm installs no peer by itself.
BARE="${WORK}/bare-testing"
mkdir -p "${BARE}"
(
  cd "${BARE}"
  echo '{ "name": "bare-testing", "private": true, "type": "module" }' >package.json
  npm install --no-audit --no-fund --loglevel=error --legacy-peer-deps \
    "${PACK}"/annals-core-*.tgz "${PACK}"/annals-testing-*.tgz zod vitest >/dev/null
  for hidden in tsyringe reflect-metadata; do
    if node -e "require.resolve('${hidden}')" 2>/dev/null; then echo "${hidden} was installed"; exit 1; fi
  done
  node --input-type=module -e "
    const kit = await import('@annals/testing');
    if (typeof kit.CommandSpec !== 'function') throw new Error('CommandSpec is not exported');
    console.log('   @annals/testing imports without tsyringe and reflect-metadata');
  "
)
took

# The project's package.json asks for @annals/* by version, as published; here they come from the tarballs.
use_tarballs() {
  node -e "
    const fs = require('node:fs');
    const [pack] = process.argv.slice(1);
    const tarball = (name) => fs.readdirSync(pack).find((f) => f.startsWith(name.replace('@', '').replace('/', '-') + '-'));
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
    for (const field of ['dependencies', 'devDependencies'])
      for (const name of Object.keys(pkg[field] ?? {}))
        if (name.startsWith('@annals/')) pkg[field][name] = 'file:' + pack + '/' + tarball(name);
    fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\\n');
  " "${PACK}"
}

STARTER=$(ls "${PACK}"/create-annals-*.tgz)
SUMMARY=()
for major in ${MAJORS}; do
  step "Node ${major}: fetch the binary from the npm registry (node@${major})"
  NODE_BIN=$(npm_config_cache="${WORK}/node-cache" npx -y "node@${major}" -p 'process.execPath')
  NODE_DIR=$(dirname "${NODE_BIN}")
  echo "   ${NODE_BIN}: $("${NODE_BIN}" --version)"
  took
  for manager in ${MANAGERS}; do
    (
      export PATH="${NODE_DIR}:${PATH}"
      export HOME="${WORK}/home-${major}-${manager}"
      export npm_config_cache="${HOME}/.npm"
      export npm_config_update_notifier=false
      mkdir -p "${HOME}"
      cd "${WORK}"
      app="app-${major}-${manager}"
      total_start=$(date +%s)

      step "Node $(node --version), ${manager}: scaffold from the create-annals tarball"
      npm exec --yes --package="${STARTER}" -- create-annals "${app}" >/dev/null
      cd "${app}"
      use_tarballs
      took

      step "Node $(node --version), ${manager}: install the tarballs and the peers"
      if [ "${manager}" = npm ]; then
        npm install --no-audit --no-fund --loglevel=error
      else
        # pnpm resolves @annals/core, which @annals/postgres and @annals/testing depend on, from the
        # registry unless an override names the tarball (npm reuses the top-level one instead).
        {
          echo "overrides:"
          for t in "${PACK}"/annals-*.tgz; do
            name=$(basename "${t}" | sed -E 's/^annals-([a-z]+)-.*/@annals\/\1/')
            echo "  \"${name}\": \"file:${t}\""
          done
        } >pnpm-workspace.yaml
        pnpm_cmd install --store-dir "${HOME}/.pnpm-store" --reporter=append-only | tail -n 5
      fi
      took

      step "Node $(node --version), ${manager}: tsc (strict, NodeNext)"
      npm run --silent typecheck
      took

      step "Node $(node --version), ${manager}: vitest (AggregateSpec, ProjectionSpec)"
      npm test --silent
      took

      # npm's tree runs the app on both stores; pnpm's (a different layout) on the server when there is
      # one, else on PGlite: each tree resolves the command bus, tsyringe and the stores once.
      if [ "${manager}" = npm ] || [ -z "${DATABASE_URL:-}" ]; then
        step "Node $(node --version), ${manager}: run on PGlite"
        DATABASE_URL='' DATA_DIR="${WORK}/${app}/.data" npm start --silent
        took
      fi

      if [ -n "${DATABASE_URL:-}" ]; then
        step "Node $(node --version), ${manager}: run on the server (DATABASE_URL)"
        npm start --silent
        took
      fi
      echo "== Node $(node --version), ${manager}: passed in $(($(date +%s) - total_start)) s"
    )
    SUMMARY+=("node ${major} / ${manager}: passed")
  done
done

echo "== consumer check passed"
printf '   %s\n' "${SUMMARY[@]}"
