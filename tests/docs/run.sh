#!/usr/bin/env bash
# The docs page works under its Content-Security-Policy: a headless Chromium loads /docs/ from a
# real server, Swagger UI must render the document (its scripts ran and fetched /openapi.json),
# and the browser must report no CSP violation. Installs Chromium from Debian when missing (not
# pinned: Debian's security updates replace the package's version in the archive).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
started=$(date +%s)
# shellcheck source=../clients/lib.sh
source tests/clients/lib.sh

MIGRAINE_DIARY_BIN="${MIGRAINE_DIARY_BIN:-$ROOT/target/debug/migraine-diary}"
export MIGRAINE_DIARY_BIN
[ -x "$MIGRAINE_DIARY_BIN" ] || cargo build --quiet --bin migraine-diary
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

trap 'status=$?; [ "$status" = 0 ] || dump_server_log; stop_server' EXIT
start_server docs
profile="$(mktemp -d "${TMPDIR:-/tmp}/md-docs-chromium.XXXXXX")"
dom="$profile/dom.html" console="$profile/console.log"
chromium --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile" \
  --enable-logging=stderr --v=0 --virtual-time-budget=15000 \
  --dump-dom "$MIGRAINE_DIARY_URL/docs/" >"$dom" 2>"$console" || true

fail() { echo "tests/docs: $*" >&2; tail -n 30 "$console" >&2; rm -rf "$profile"; exit 1; }
grep -q 'class="swagger-ui' "$dom" || fail "Swagger UI did not render"
grep -q 'getAccessLog\|Who looked at my data' "$dom" || fail "the OpenAPI document was not loaded"
if grep -i 'content security policy\|Refused to' "$console"; then
  fail "the browser reported a CSP violation"
fi
rm -rf "$profile"
echo "tests/docs: Swagger UI renders under its CSP ($(($(date +%s) - started)) s)"
