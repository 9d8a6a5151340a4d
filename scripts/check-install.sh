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
# Only what runs: no sources, tests, source maps or the bundler's metafile.
unwanted='^package/(src|test|bench|\.ci|scripts)/|\.map$|/meta\.json$|\.tsbuildinfo$'
if tar -tzf "$work/$tarball" | grep -qE "$unwanted"; then
  echo "check-install: the package holds files it should not:" >&2
  tar -tzf "$work/$tarball" | grep -E "$unwanted" | head >&2
  exit 1
fi
echo "check-install: $tarball is $(($(stat -c %s "$work/$tarball") / 1024)) KiB"
# No install script of mcpd's own: npm asks the user to allow none of it.
install_log="$(npm install --global --prefix "$work/prefix" --omit=dev --prefer-offline --no-audit --no-fund "$work/$tarball" 2>&1)"
if grep -q 'mcpd@.*(prepare\|mcpd@.*(postinstall\|mcpd@.*(install' <<<"$install_log"; then
  echo "check-install: installing runs a script of mcpd's own:" >&2
  echo "$install_log" >&2
  exit 1
fi
echo "check-install: installed, $(du -sh "$work/prefix/lib/node_modules/mcpd" | cut -f1)"

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
# The dashboard from the installed package: its page, and preact from its own node_modules.
login="$("$mcpd" ui --no-browser 2>/dev/null)"
origin="${login%%/ui/*}"
cookie="$(curl -s -o /dev/null -D - "$login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')"
[ -n "$cookie" ] || { echo "check-install: mcpd ui's link gave no cookie ($login)" >&2; exit 1; }
for asset in / /app.js /vendor/preact.js /vendor/hooks.js /vendor/htm.js; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$origin/ui$asset")"
  [ "$code" = 200 ] || { echo "check-install: the dashboard's $asset answered $code" >&2; exit 1; }
done
"$mcpd" stop

# A new user's first steps, in a home of their own: init, a server added from the CLI, a host
# wired in, the login service written.
export HOME="$work/user" XDG_CONFIG_HOME="$work/user/.config"
mkdir -p "$HOME/somewhere" && cd "$HOME/somewhere"
"$mcpd" init >/dev/null
"$mcpd" server add fx2 -- "$(command -v node)" "$root/test/fixtures/mcp-fixture.mjs" >/dev/null
grep -q '"fx2"' "$XDG_CONFIG_HOME/mcpd/mcp.config.json" || { echo "check-install: server add did not write the user config" >&2; exit 1; }
"$mcpd" start >/dev/null
[ "$("$mcpd" call fx2__echo '{"message":"user config"}')" = "user config" ] || { echo "check-install: the user config's server does not answer" >&2; exit 1; }
"$mcpd" connect claude-code >/dev/null
grep -q '"bridge"' "$HOME/.claude.json" || { echo "check-install: connect did not write ~/.claude.json" >&2; exit 1; }
"$mcpd" service install --no-start >/dev/null
[ -f "$XDG_CONFIG_HOME/systemd/user/mcpd.service" ] || { echo "check-install: no service unit" >&2; exit 1; }
"$mcpd" stop >/dev/null
echo "check-install: ok (packed, installed with --omit=dev, started, called, dashboard served, stopped from $work/elsewhere; init, server add, connect, service install as a new user)"
