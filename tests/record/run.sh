#!/usr/bin/env bash
# CI stage "record": the visit report in a real browser, and the FHIR export against the
# official R4 schema. Installs what it needs (Debian's chromium and poppler-utils, the npm
# packages of package-lock.json), fills a fresh SQLite database with the demo clinic, starts
# the server on a free loopback port, then:
#   - renders a demo patient's ketamine treatment report in headless Chromium (browser.py):
#     target/record/report.png (the CI artifact), report.pdf (must be exactly one A4 page), and
#     proof that the page requested nothing but its own URL and logged no CSP violation; the
#     same for that patient's range report (range-report.*);
#   - validates the FHIR Bundle of every demo patient against fhir.schema.json (R4): 0 errors.
# Prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
out=target/record
here=tests/record
# Versions this stage was checked with (Debian 12 bookworm-security); a newer security build
# is taken when the mirror no longer carries these.
CHROMIUM_VERSION="156.0.8078.114-1~deb12u1"
POPPLER_VERSION="22.12.0-2+deb12u3"

install_apt() { # $1 = package, $2 = version, $3 = a command it provides
  if command -v "$3" >/dev/null 2>&1; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$1=$2" >/dev/null ||
    apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}
install_apt chromium "$CHROMIUM_VERSION" chromium
install_apt poppler-utils "$POPPLER_VERSION" pdfinfo
echo "$(chromium --version 2>/dev/null), $(pdfinfo -v 2>&1 | head -n 1)"
(cd "$here" && npm ci --no-audit --no-fund --silent)

# The debug build that `cargo test` left behind (or $MIGRAINE_DIARY_BIN when given).
if [ -z "${MIGRAINE_DIARY_BIN:-}" ]; then
  cargo build --quiet --bin migraine-diary
  MIGRAINE_DIARY_BIN=target/debug/migraine-diary
fi
# shellcheck source=../clients/lib.sh
source tests/clients/lib.sh

rm -rf "$out" && mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/migraine-diary-record.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

db_url="sqlite://$work/db.sqlite?mode=rwc"
"$MIGRAINE_DIARY_BIN" demo --database-url "$db_url" >"$work/demo.log" 2>&1 || {
  cat "$work/demo.log" >&2
  exit 1
}
tail -n 1 "$work/demo.log"
port="$(free_port)"
"$MIGRAINE_DIARY_BIN" serve --bind "127.0.0.1:$port" --database-url "$db_url" \
  --jwt-secret "$(random_hex 32)" --access-token-ttl-secs 3600 >"$work/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  http_ok "$url/health/ready" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

python3 "$here/browser.py" "$url" "$out"
for name in report range-report; do
  pages="$(pdfinfo "$out/$name.pdf" | awk '/^Pages:/ {print $2}')"
  size="$(pdfinfo "$out/$name.pdf" | awk -F': *' '/^Page size:/ {print $2}')"
  echo "$name.pdf: $pages page(s), $size"
  if [ "$pages" != 1 ]; then
    echo "$name must print on exactly one page, not $pages" >&2
    exit 1
  fi
done
NODE_PATH="$here/node_modules" node "$here/validate-fhir.js" "$out"/fhir/*.json
echo "screenshots: $out/report.png, $out/range-report.png"
echo "record stage took $(( $(date +%s) - started )) s"
