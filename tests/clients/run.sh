#!/usr/bin/env bash
# Contract conformance of migraine-diary: the one entry point.
#
#   bash tests/clients/run.sh            # every stage
#   bash tests/clients/run.sh lint ts    # only some: doc lint ts python go generators schemathesis
#
# Stages:
#   doc           openapi/openapi.json is exactly what the server serves (`migraine-diary openapi`)
#   lint          Redocly CLI lints the committed document (zero errors, zero warnings)
#   ts            openapi-typescript + openapi-fetch client, `tsc --strict`, scripted flow
#   python        openapi-python-client client, scripted flow
#   go            OpenAPI Generator's Go client (default options), compiled, scripted flow
#   generators    OpenAPI Generator `validate`, then Kotlin, Swift, Dart and C# clients generated
#                 (not compiled): no warning beyond the 3.1 beta notice, no untyped model field
#   schemathesis  property-based tests of every operation with every check, as a patient and as
#                 a clinician
#
# Needs Python 3.11+ with pip and venv, Node 20.19+ with npm, Java 17+ and the Rust toolchain;
# the go stage installs Debian's golang-go (apt-get) when `go` is missing, and a missing Java is
# installed the same way. Tools are installed with pinned versions into tests/clients/.venv and
# tests/clients/node_modules (both git-ignored); OpenAPI Generator comes from PyPI
# (openapi-generator-cli, which bundles its jar). No Go module is downloaded: the generated Go
# client needs only the standard library, and GOPROXY=off keeps it so. The server binary is $MIGRAINE_DIARY_BIN
# (default target/debug/migraine-diary, built with `cargo build` when missing).
# Every server is started here, on a free loopback port with a fresh database in a temp dir.
# Exits non-zero when any stage fails.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

MIGRAINE_DIARY_BIN="${MIGRAINE_DIARY_BIN:-$ROOT/target/debug/migraine-diary}"
case "$MIGRAINE_DIARY_BIN" in /*) ;; *) MIGRAINE_DIARY_BIN="$ROOT/$MIGRAINE_DIARY_BIN" ;; esac
export MIGRAINE_DIARY_BIN
DOC="$ROOT/openapi/openapi.json"
VENV="$HERE/.venv"
GEN="$HERE/.generated"   # generated clients; never committed

STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(doc lint ts python go generators schemathesis)
wants() { local s; for s in "${STAGES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

declare -a RESULTS=()
FAILED=0
START_ALL=$SECONDS

# Runs one stage: `stage NAME function`; records "NAME: passed|FAILED (Ns)".
stage() {
  local name="$1" fn="$2" t0=$SECONDS
  echo
  echo "==== $name ===="
  # Not `if ( … )`: bash ignores `set -e` inside a condition. Each stage stops its own server.
  set +e
  ( set -euo pipefail; trap stop_server EXIT; "$fn" )
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    RESULTS+=("$name: passed ($((SECONDS - t0)) s)")
    echo "==== $name: passed ($((SECONDS - t0)) s) ===="
  else
    RESULTS+=("$name: FAILED ($((SECONDS - t0)) s)")
    echo "==== $name: FAILED ($((SECONDS - t0)) s) ====" >&2
    FAILED=$((FAILED + 1))
  fi
}

# ---- setup: tools and binary ------------------------------------------------------------

setup_binary() {
  if [ -x "$MIGRAINE_DIARY_BIN" ]; then
    echo "using $MIGRAINE_DIARY_BIN"
  elif [ "$MIGRAINE_DIARY_BIN" = "$ROOT/target/debug/migraine-diary" ]; then
    echo "building $MIGRAINE_DIARY_BIN (cargo build)"
    cargo build --quiet --bin migraine-diary
  else
    echo "MIGRAINE_DIARY_BIN=$MIGRAINE_DIARY_BIN does not exist" >&2
    return 1
  fi
}

setup_python() {
  local stamp="$VENV/.installed"
  if [ -f "$stamp" ] && cmp -s "$stamp" <(cat "$HERE/requirements.txt" "$HERE/constraints.txt"); then
    echo "python tools: up to date in $VENV"
    return 0
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$HERE/requirements.txt" -c "$HERE/constraints.txt"
  cat "$HERE/requirements.txt" "$HERE/constraints.txt" >"$stamp"
  echo "python tools: installed into $VENV"
}

setup_node() {
  local stamp="$HERE/node_modules/.installed"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$HERE/package-lock.json"; then
    echo "node tools: up to date in $HERE/node_modules"
    return 0
  fi
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$HERE/package-lock.json" "$stamp"
  echo "node tools: installed into $HERE/node_modules"
}

# Debian's package, installed as root when the command is missing (`apt-get update` first).
apt_install() { # $1 = command, $2… = packages
  local cmd="$1"
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$cmd is missing; install Debian's $* (as root: apt-get install $*)" >&2
    return 1
  fi
  echo "installing Debian's $* (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

setup_generator() {
  apt_install java openjdk-17-jre-headless
  java -version 2>&1 | head -n 1
  echo "openapi-generator $("$VENV/bin/openapi-generator-cli" version)"
}

setup_go() {
  apt_install go golang-go
  go version
}

setup() {
  setup_binary
  if wants ts || wants lint; then setup_node; fi
  if wants python || wants schemathesis || wants go || wants generators; then setup_python; fi
  if wants go || wants generators; then setup_generator; fi
  if wants go; then setup_go; fi
}

# ---- stages -----------------------------------------------------------------------------

stage_doc() {
  local served
  served="$(mktemp)"
  "$MIGRAINE_DIARY_BIN" openapi >"$served"
  if [ ! -f "$DOC" ]; then
    echo "openapi/openapi.json is missing; create it with: cargo run -q -- openapi > openapi/openapi.json" >&2
    return 1
  fi
  if ! diff -u "$DOC" "$served" >"$served.diff"; then
    head -n 60 "$served.diff" >&2
    echo "openapi/openapi.json differs from what the server serves;" \
      "update it with: cargo run -q -- openapi > openapi/openapi.json" >&2
    return 1
  fi
  echo "openapi/openapi.json matches the served document"
}

stage_lint() {
  (cd "$HERE" && npx --no-install redocly lint --config "$HERE/redocly.yaml" \
    --max-problems 200 "$DOC")
}

stage_ts() {
  local out="$GEN/ts"
  rm -rf "$out"
  mkdir -p "$out"
  # --default-non-nullable false: a property with a `default` (the diary's `features`) stays
  # optional, as the document says; otherwise requests would have to send every feature.
  (cd "$HERE" && npx --no-install openapi-typescript "$DOC" --default-non-nullable false \
    -o "$out/schema.d.ts")
  (cd "$HERE/ts" && npx --no-install tsc -p tsconfig.json)
  echo "tsc --strict: no type errors"
  start_server ts
  MIGRAINE_DIARY_OPENAPI="$DOC" node "$out/dist/flow.js" || { dump_server_log; return 1; }
}

stage_python() {
  local out="$GEN/python"
  rm -rf "$out"
  mkdir -p "$out"
  "$VENV/bin/openapi-python-client" generate --path "$DOC" --meta none \
    --output-path "$out/migraine_diary_client" --config "$HERE/python/generator.yaml"
  start_server python
  PYTHONPATH="$out" MIGRAINE_DIARY_OPENAPI="$DOC" "$VENV/bin/python" "$HERE/python/flow.py" || { dump_server_log; return 1; }
}

# OpenAPI Generator with default options: check.py generates, then checks the log and models.
generate() { # $@ = generator names
  DOC="$DOC" OPENAPI_GENERATOR="$VENV/bin/openapi-generator-cli" \
    "$VENV/bin/python" "$HERE/generators/check.py" "$GEN" "$@"
}

stage_go() {
  generate go
  # Offline and hermetic: no module download (the client needs none), no toolchain switch, the
  # build cache inside tests/clients.
  export GOPROXY=off GOFLAGS=-mod=mod GOSUMDB=off GOTOOLCHAIN=local GOCACHE="$HERE/.go-cache"
  (cd "$HERE/go" && go vet . && go build -o "$GEN/go-flow" .)
  echo "go build: the generated client and the flow compile"
  start_server go
  "$GEN/go-flow" || { dump_server_log; return 1; }
}

stage_generators() {
  "$VENV/bin/openapi-generator-cli" validate -i "$DOC"
  generate kotlin swift6 dart csharp
}

stage_schemathesis() {
  start_server schemathesis
  SCHEMATHESIS="$VENV/bin/schemathesis" DOC="$DOC" \
    "$VENV/bin/python" "$HERE/schemathesis/run.py" || { dump_server_log; return 1; }
}

# ---- main -------------------------------------------------------------------------------

stage setup setup
if [ "$FAILED" -eq 0 ]; then
  wants doc && stage doc stage_doc
  wants lint && stage lint stage_lint
  wants ts && stage "typescript client" stage_ts
  wants python && stage "python client" stage_python
  wants go && stage "go client" stage_go
  wants generators && stage "kotlin, swift, dart, c# generation" stage_generators
  wants schemathesis && stage schemathesis stage_schemathesis
fi

echo
echo "==== summary ($((SECONDS - START_ALL)) s) ===="
for r in "${RESULTS[@]}"; do echo "  $r"; done
PASSED=$((${#RESULTS[@]} - FAILED))
echo "clients: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
