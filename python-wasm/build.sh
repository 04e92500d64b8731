#!/usr/bin/env bash
# Build the sandbox artifact: a pre-initialized CPython 3.14 WASI component
# made from runtime/wit (the contract) and runtime/python/harness.py (the
# guest), by the pinned componentize-py.
#
#   python-wasm/build.sh OUT_DIR
#
# Writes OUT_DIR/runtime.wasm and OUT_DIR/runtime.json (its sha256, size and
# the tool version). The host refuses an artifact whose sha256 does not match
# its manifest. Builds are not byte-reproducible, so the hash is recorded per
# build rather than committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:?usage: build.sh OUT_DIR}
venv=${AUTOLEARN_VENV:-$root/.venv}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/componentize-py" ] || ! "$venv/bin/componentize-py" --version | grep -q "0.25.1"; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$here/requirements.txt"
fi

mkdir -p "$out"
started=$(date +%s.%N)
"$venv/bin/componentize-py" --quiet \
  -d "$root/runtime/wit" -w skill-runtime \
  componentize -p "$root/runtime/python" harness \
  -o "$out/runtime.wasm.tmp"
mv "$out/runtime.wasm.tmp" "$out/runtime.wasm"
finished=$(date +%s.%N)

sha=$(sha256sum "$out/runtime.wasm" | cut -d' ' -f1)
size=$(stat -c %s "$out/runtime.wasm")
version=$("$venv/bin/componentize-py" --version | awk '{print $2}')
seconds=$(awk "BEGIN {printf \"%.1f\", $finished - $started}")
cat > "$out/runtime.json" <<JSON
{"sha256": "$sha", "size": $size, "componentize_py": "$version", "build_seconds": $seconds}
JSON
echo "built $out/runtime.wasm: $size bytes, sha256 $sha, ${seconds}s"
