# Helpers for tests/clients/run.sh (sourced, not run).
#
# start_server NAME  starts `migraine-diary serve` on a free loopback port with a fresh SQLite
#                    database in a temp dir and one clinician account made on the command line,
#                    waits until /health/ready answers, and exports:
#                      MIGRAINE_DIARY_URL, MIGRAINE_DIARY_CLINICIAN_EMAIL,
#                      MIGRAINE_DIARY_CLINICIAN_PASSWORD, SERVER_LOG
# stop_server        stops it (only the process it started) and removes the temp dir.

SERVER_PID=""
SERVER_DIR=""

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# No curl on a bare machine: Python's urllib does the readiness probe.
http_ok() {
  python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" >/dev/null 2>&1
}

random_hex() { # $1 = bytes
  python3 -c "import secrets,sys; print(secrets.token_hex(int(sys.argv[1])))" "$1"
}

start_server() {
  local name="$1" attempt port db_url
  SERVER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/migraine-diary-${name}.XXXXXX")"
  SERVER_LOG="$SERVER_DIR/server.log"
  db_url="sqlite://$SERVER_DIR/db.sqlite?mode=rwc"
  MIGRAINE_DIARY_CLINICIAN_EMAIL="clinician-${name}@clinic.example.org"
  MIGRAINE_DIARY_CLINICIAN_PASSWORD="$(random_hex 12)"
  MIGRAINE_DIARY_PASSWORD="$MIGRAINE_DIARY_CLINICIAN_PASSWORD" \
    "$MIGRAINE_DIARY_BIN" user create --role clinician \
      --email "$MIGRAINE_DIARY_CLINICIAN_EMAIL" --display-name "Dr. Test" \
      --database-url "$db_url" >"$SERVER_DIR/user-create.log" 2>&1 || {
        cat "$SERVER_DIR/user-create.log" >&2
        return 1
      }
  for attempt in 1 2 3; do
    port="$(free_port)"
    # A long access-token lifetime, so that no token expires during a slow run. Fuzzing sends
    # thousands of requests a minute from one address and one caller: budgets that high keep
    # its requests reaching the handlers (the limits themselves are tested in tests/api/limits.rs).
    "$MIGRAINE_DIARY_BIN" serve --bind "127.0.0.1:$port" --database-url "$db_url" \
      --jwt-secret "$(random_hex 32)" --access-token-ttl-secs 3600 \
      --requests-per-minute-per-caller 1000000 --request-burst-per-caller 100000 \
      --login-failures-per-client 1000000 --login-failures-per-account-client 1000000 \
      --registrations-per-client-per-hour 1000000 --password-resets-per-client-per-hour 1000000 \
      >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    MIGRAINE_DIARY_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
      fi
      if http_ok "$MIGRAINE_DIARY_URL/health/ready"; then
        export MIGRAINE_DIARY_URL MIGRAINE_DIARY_CLINICIAN_EMAIL MIGRAINE_DIARY_CLINICIAN_PASSWORD SERVER_LOG
        echo "server ($name) on $MIGRAINE_DIARY_URL, database $SERVER_DIR/db.sqlite"
        return 0
      fi
      sleep 0.1
    done
    echo "server did not start (attempt $attempt):" >&2
    tail -n 20 "$SERVER_LOG" >&2
    stop_server_process
  done
  return 1
}

stop_server_process() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

stop_server() {
  stop_server_process
  if [ -n "$SERVER_DIR" ] && [ -z "${KEEP_SERVER_DIRS:-}" ]; then
    rm -rf "$SERVER_DIR"
  fi
  SERVER_DIR=""
}

# Prints the server's log when a stage failed, so CI output shows why.
dump_server_log() {
  if [ -n "${SERVER_LOG:-}" ] && [ -f "$SERVER_LOG" ]; then
    echo "---- last lines of the server log ----" >&2
    tail -n 40 "$SERVER_LOG" >&2
  fi
}
