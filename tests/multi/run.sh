#!/usr/bin/env bash
# Two instances, one PostgreSQL: starts two `migraine-diary serve` processes on one fresh
# PostgreSQL database with the same JWT secret and checks (check.py) that a session moves
# between them, that the login budget is one budget, that a logout on one is honoured by the
# other, that an unlink on one refuses the clinician on the other at once (whose access it had
# cached), that a burst of concurrent guesses through both gets exactly the budget of password
# checks, and that concurrent diary writes through both lose nothing.
#
# Starts PostgreSQL when it is down (as .ci/run does), creates its own database and drops it
# on exit. The binary is $MIGRAINE_DIARY_BIN, or built here. Needs python3 (standard library).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
START=$(date +%s)

PG_BASE="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

if [ -z "${MIGRAINE_DIARY_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --quiet --bin migraine-diary)
  MIGRAINE_DIARY_BIN="$ROOT/target/debug/migraine-diary"
fi

DB="md_multi_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
DB_URL="${PG_BASE%/*}/$DB"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/migraine-diary-multi.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG_BASE" -qc "drop database if exists \"$DB\"" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql "$PG_BASE" -qc "create database \"$DB\"" >/dev/null

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

# start NAME: one instance (its URL in $URL); the second starts after the first has migrated
# the database. Not called in $(…): the pid must reach PIDS in this shell.
start() {
  local name="$1" port
  port="$(free_port)"
  DATABASE_URL="$DB_URL" JWT_SECRET="$SECRET" RUST_LOG=warn \
    LOGIN_FAILURES_PER_ACCOUNT_CLIENT=4 \
    "$MIGRAINE_DIARY_BIN" serve --bind "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    if python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then
      URL="http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  cat "$WORK/$name.log" >&2
  return 1
}
# A clinician for the unlink check (created before the servers start).
DATABASE_URL="$DB_URL" "$MIGRAINE_DIARY_BIN" migrate >/dev/null
DATABASE_URL="$DB_URL" MIGRAINE_DIARY_PASSWORD="two instances, one database" \
  "$MIGRAINE_DIARY_BIN" user create --role clinician --email kim.multi@clinic.example >/dev/null
start a
A="$URL"
start b
B="$URL"
echo "instance A: $A, instance B: $B, database $DB"

if ! python3 "$HERE/check.py" "$A" "$B"; then
  echo "--- instance A log" >&2; tail -n 40 "$WORK/a.log" >&2
  echo "--- instance B log" >&2; tail -n 40 "$WORK/b.log" >&2
  exit 1
fi
echo "two instances on one PostgreSQL: ok in $(( $(date +%s) - START )) s"
