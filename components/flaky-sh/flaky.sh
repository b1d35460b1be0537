#!/bin/sh
# flaky-sh: fails on attempts 1..failures (CO_ATTEMPT counts from 1), succeeds after that.
# Sleeps sleepSeconds first, in a way that a polite SIGTERM (timeout, cancel) ends at once.
set -eu

post() {
  [ -n "${1:-}" ] || return 0
  wget -q -O /dev/null --header='Content-Type: application/json' --post-data="$2" "$1"
}

attempt=${CO_ATTEMPT:-1}
failures=${CO_INPUT_FAILURES:-0}
sleep_seconds=${CO_INPUT_SLEEP_SECONDS:-0}

post "${CO_COMPONENT_START:-}" '{}'
post "${CO_TASK_START:-}" '{}'
post "${CO_TASK_STATUS:-}" "{\"message\":\"attempt $attempt, failing the first $failures\"}"

if [ "$sleep_seconds" != 0 ]; then
  echo "sleeping ${sleep_seconds}s"
  # sleep in the background and wait for it: the shell then reacts to SIGTERM right away
  # (and takes its sleep along) instead of after the sleep.
  sleep "$sleep_seconds" &
  sleeper=$!
  trap 'kill "$sleeper" 2>/dev/null || true; echo "stopped by a signal while sleeping"; exit 143' TERM INT
  # A sleep that fails (a sleepSeconds it cannot parse) is said out loud, not a silent `set -e` exit.
  status=0
  wait "$sleeper" || status=$?
  trap - TERM INT
  if [ "$status" -ne 0 ]; then
    echo "the sleep ended with status $status" >&2
    exit "$status"
  fi
fi

if [ "$attempt" -le "$failures" ]; then
  message="attempt $attempt fails on purpose (the first $failures do)"
  echo "$message" >&2
  post "${CO_TASK_RESULT:-}" "{\"status\":\"failure\",\"message\":\"$message\"}"
  post "${CO_COMPONENT_STOP:-}" '{}'
  exit 1
fi

echo "attempt $attempt succeeds"
post "${CO_TASK_RESULT:-}" "{\"status\":\"success\",\"output\":{\"attempt\":$attempt}}"
post "${CO_COMPONENT_STOP:-}" '{}'
