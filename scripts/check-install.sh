#!/usr/bin/env bash
# Installs mcpd the way a user does and uses it from an unrelated folder: packs the project,
# installs the tarball globally into a temporary prefix without dev dependencies, then runs
# `mcpd --version`, `mcpd start` on a config with a TypeScript plugin, a call, and `mcpd stop`.
# Run by .ci/run after the tests (it needs the npm registry, or a warm npm cache).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export MCPD_HOME="$work/home"
mcpd="$work/prefix/bin/mcpd"
cleanup() {
  "$mcpd" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
if tar -tzf "$work/$tarball" | grep -qE '^package/(src|test|bench|\.ci|scripts)/'; then
  echo "check-install: the package holds files it should not:" >&2
  tar -tzf "$work/$tarball" | grep -E '^package/(src|test|bench|\.ci|scripts)/' | head >&2
  exit 1
fi
npm install --global --prefix "$work/prefix" --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error "$work/$tarball"

mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
cat > mcp.config.json <<JSON
{
  "servers": { "fx": { "command": "$(command -v node)", "args": ["$root/test/fixtures/mcp-fixture.mjs"] } },
  "plugins": [["$work/prefix/lib/node_modules/mcpd/plugins/tool-filter.ts", { "deny": ["fx__die"] }]]
}
JSON
version="$("$mcpd" --version)"
echo "check-install: mcpd --version: $version"
"$mcpd" start
"$mcpd" status | grep -q 'tool-filter' || { echo "check-install: the plugin did not load" >&2; "$mcpd" status >&2; exit 1; }
answer="$("$mcpd" call fx__echo '{"message":"installed"}')"
[ "$answer" = "installed" ] || { echo "check-install: the call answered: $answer" >&2; exit 1; }
if "$mcpd" tools | grep -q 'fx__die'; then echo "check-install: the plugin's deny did not apply" >&2; exit 1; fi
"$mcpd" stop
echo "check-install: ok (packed, installed with --omit=dev, started, called, stopped from $work/elsewhere)"
