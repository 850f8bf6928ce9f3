#!/usr/bin/env bash
# aerie-cat against `aerie serve`: stdin lines echoed and printed as they arrive, binary
# in and out, invalid UTF-8 refused per line, --echo (through the broadcast app, with a
# second aerie-cat on the other end), SIGINT, --ping-interval, and the exit codes: 0 normal
# close, 1 refused connection, 2 usage errors (bad flag, bad header, http:// URL), 3 a close
# with another code (1009 from --max-message-size).
#
#   aerie_cat_test.sh path/to/aerie path/to/aerie-cat
set -u

AERIE=${1:?usage: aerie_cat_test.sh AERIE AERIE_CAT}
CAT=${2:?usage: aerie_cat_test.sh AERIE AERIE_CAT}
work=$(mktemp -d)
pids=()
failures=0

cleanup() {
  for pid in "${pids[@]}"; do
    kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
check() {  # check DESCRIPTION COMMAND...: fails the test unless COMMAND succeeds
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
show() {  # the output of a session, for the log of a failure (not its stdin: a fifo)
  for f in "$work/$1.out" "$work/$1.err"; do
    [ -f "$f" ] || continue
    echo "--- $f" >&2
    head -c 2000 "$f" | cat -A >&2
  done
}

# Starts `aerie serve` on a free port; sets `port`.
start_server() {
  local out=$work/server$1.out
  "$AERIE" serve --host 127.0.0.1 --port 0 --workers 1 --ws /echo=echo --ws /bcast=broadcast \
    >"$out" 2>"$work/server$1.err" &
  server_pid=$!
  pids+=("$server_pid")
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's|^aerie listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$out")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "FAIL: the server did not start" >&2
  cat "$work/server$1.err" >&2
  exit 1
}

# Waits up to SECONDS for FILE to have LINES lines, or for PID to end.
wait_lines() {
  local file=$1 lines=$2 pid=$3 seconds=$4
  for _ in $(seq $((seconds * 20))); do
    [ "$(wc -l <"$file")" -ge "$lines" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

# Waits up to SECONDS for PID to end; sets `rc` (124 when it had to be killed).
wait_exit() {
  local pid=$1 seconds=$2
  for _ in $(seq $((seconds * 20))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      rc=$?
      return
    fi
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=124
}

# run_session NAME LINES INPUT ARGS...: aerie-cat ARGS with INPUT on stdin (a fifo kept open
# until LINES lines were printed, so the replies are not cut short by our own close), then
# stdin ends. Output in $work/NAME.out and NAME.err; the exit code in `rc`.
run_session() {
  local name=$1 lines=$2 input=$3 fd
  shift 3
  mkfifo "$work/$name.in"
  "$CAT" "$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  pids+=("$pid")
  exec {fd}>"$work/$name.in"
  printf '%b' "$input" >&"$fd"
  wait_lines "$work/$name.out" "$lines" "$pid" 10
  exec {fd}>&-
  wait_exit "$pid" 10
}

start_server 1
url=ws://127.0.0.1:$port

# --- Lines out, messages in ------------------------------------------------------------
run_session text 2 'hello\nworld\n' --show-close "$url/echo"
check "two lines echoed (exit $rc)" [ "$rc" = 0 ]
check "printed one per line" [ "$(cat "$work/text.out")" = $'hello\nworld' ]
check "--show-close prints the close" grep -qx 'closed: 1000' "$work/text.err"

run_session hex 1 'abc\n' --binary --binary-hex "$url/echo"
check "binary line printed as hex (exit $rc)" \
  [ "$rc" = 0 -a "$(cat "$work/hex.out")" = 616263 ]
run_session bin 1 'abcd\n' --binary "$url/echo"
check "binary message described (exit $rc)" \
  [ "$rc" = 0 -a "$(cat "$work/bin.out")" = '<binary 4 bytes>' ]

run_session utf8 1 '\xff\xfe\nok\n' "$url/echo"
check "invalid UTF-8 line refused, the next one sent (exit $rc)" \
  [ "$rc" = 0 -a "$(cat "$work/utf8.out")" = ok ]
check "invalid UTF-8 line reported" grep -q 'line not sent' "$work/utf8.err"

# A session kept open long enough for several pings.
mkfifo "$work/pings.in"
"$CAT" --ping-interval 0.1 -v "$url/echo" <"$work/pings.in" >"$work/pings.out" \
  2>"$work/pings.err" &
pid=$!
pids+=("$pid")
exec {fd}>"$work/pings.in"
sleep 0.6
exec {fd}>&-
wait_exit "$pid" 10
check "pings sent every 0.1 s (exit $rc)" \
  [ "$rc" = 0 -a "$(grep -c 'ping sent' "$work/pings.err")" -ge 3 ]

# --- Closes with other codes -------------------------------------------------------------
run_session big 1 'toolong\n' --max-message-size 4 "$url/echo"
check "a message over --max-message-size: exit 3 (got $rc)" [ "$rc" = 3 ]
check "the close code is reported" grep -q 'closed with 1009' "$work/big.err"
check "the message is not printed" [ ! -s "$work/big.out" ]

# --- --echo, through the broadcast app: B's messages reach the echoer, its echoes reach B --
"$CAT" --echo --show-close "$url/bcast" </dev/null >"$work/echo.out" 2>"$work/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
mkfifo "$work/peer.in"
"$CAT" --binary --binary-hex "$url/bcast" <"$work/peer.in" >"$work/peer.out" \
  2>"$work/peer.err" &
peer_pid=$!
pids+=("$peer_pid")
exec {fd}>"$work/peer.in"
# Until the echoer is connected, the broadcast reaches nobody: repeat until it answers.
for _ in $(seq 100); do
  [ -s "$work/peer.out" ] && break
  printf 'ping\n' >&"$fd"
  sleep 0.1
done
check "--echo sends binary back as binary" [ "$(head -n1 "$work/peer.out")" = 70696e67 ]
run_session textpeer 1 'text\n' "$url/bcast"
check "--echo sends text back as text (exit $rc)" \
  [ "$rc" = 0 -a "$(cat "$work/textpeer.out")" = text ]
exec {fd}>&-
wait_exit "$peer_pid" 10
check "the peer exits 0 at the end of its input (got $rc)" [ "$rc" = 0 ]
kill -INT "$echo_pid"
wait_exit "$echo_pid" 10
check "--echo exits 0 after SIGINT (got $rc)" [ "$rc" = 0 ]
check "SIGINT closes with 1000" grep -qx 'closed: 1000' "$work/echo.err"
check "--echo prints nothing per message" [ ! -s "$work/echo.out" ]

# --- Exit codes of failures --------------------------------------------------------------
"$CAT" --no-such-flag "$url/echo" </dev/null >/dev/null 2>"$work/flag.err"
rc=$?
check "an unknown flag: exit 2 (got $rc)" [ "$rc" = 2 ]
check "the unknown flag is named" grep -q -- '--no-such-flag' "$work/flag.err"
"$CAT" </dev/null >/dev/null 2>&1
rc=$?
check "no URL: exit 2 (got $rc)" [ "$rc" = 2 ]
"$CAT" -H 'no colon' "$url/echo" </dev/null >/dev/null 2>"$work/header.err"
rc=$?
check "a header without ':': exit 2 (got $rc)" [ "$rc" = 2 ]

"$CAT" "http://127.0.0.1:$port/echo" </dev/null >"$work/http.out" 2>"$work/http.err"
rc=$?
check "an http:// URL: exit 2 (got $rc)" [ "$rc" = 2 ]
check "an http:// URL is explained" grep -q '^aerie-cat: .*ws://' "$work/http.err"

# A port nobody listens on: the one of a server that just stopped.
start_server 2
closed_port=$port
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null
"$CAT" "ws://127.0.0.1:$closed_port/" </dev/null >"$work/refused.out" 2>"$work/refused.err"
rc=$?
check "a refused connection: exit 1 (got $rc)" [ "$rc" = 1 ]
check "the refused address is named" grep -q "^aerie-cat: .*127\.0\.0\.1:$closed_port" \
  "$work/refused.err"

if [ "$failures" != 0 ]; then
  for name in text hex bin utf8 pings big echo peer textpeer flag http refused; do show "$name"; done
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all aerie-cat checks passed"
