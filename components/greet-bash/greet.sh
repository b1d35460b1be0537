#!/usr/bin/env bash
# greet-bash: the whole component contract in bash alone: all five callbacks over one kept-alive
# HTTP/1.1 connection opened with bash's /dev/tcp (no curl, no wget, no process per call).
# Reads CO_INPUT_NAME (the engine exports each scalar field of the event data as CO_INPUT_*).
# Run by hand (no CO_* variables) it only prints the greeting; `--no-callbacks` does the same under
# the engine (the exit-code style). Plain http:// URLs only (what the local executor gives).
set -euo pipefail
trap '' PIPE   # a write to a connection the engine closed fails (and is retried), it does not kill us

conn=''   # host:port of the open connection (file descriptor 3), empty when none

# POST $2 to the URL in variable $1 (nothing when it is unset); exit 1 unless answered 200.
post() {
  local url=${!1:-}
  [ -n "$url" ] || return 0
  local LC_ALL=C # lengths and reads in bytes, not characters
  case $url in http://*) ;; *) echo "greet-bash: only http:// callback URLs are supported" >&2; exit 1 ;; esac
  local rest=${url#http://}
  local authority=${rest%%/*} path=/${rest#*/}
  local host=${authority%:*} port=${authority##*:}
  [ "$port" != "$authority" ] || port=80
  local attempt status line length body closing request
  for attempt in 1 2; do
    if [ "$conn" != "$authority" ]; then
      [ -z "$conn" ] || exec 3>&-
      exec 3<>"/dev/tcp/$host/$port"
      conn=$authority
    fi
    # One write for the whole request: a request in pieces meets Nagle's algorithm and the
    # engine's delayed ACK (~40 ms a call). bash writes what it prints up to its last newline at
    # once, so the body ends with one (JSON allows it; Content-Length counts it).
    printf -v request 'POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s\n' \
      "$path" "$authority" "$((${#2} + 1))" "$2"
    printf '%s' "$request" >&3 2>/dev/null || true
    status='' length=0 closing=''
    if IFS= read -r line <&3; then
      status=${line#HTTP/1.? }
      status=${status%% *}
      while IFS= read -r line <&3; do
        line=${line%$'\r'}
        [ -n "$line" ] || break
        case ${line,,} in
          content-length:*) length=${line#*:}; length=${length// /} ;;
          connection:*close*) closing=1 ;;
        esac
      done
      body=''
      [ "$length" -eq 0 ] || IFS= read -r -N "$length" body <&3
      [ -z "$closing" ] || { exec 3>&-; conn=''; }
      [ "$status" = 200 ] && return 0
      echo "greet-bash: $1 answered $status: $body" >&2
      exit 1
    fi
    # the engine had closed the idle connection before reading: once more on a new one
    exec 3>&-
    conn=''
  done
  echo "greet-bash: the engine closed the connection twice for $1" >&2
  exit 1
}

callbacks=1
[ "${1:-}" != --no-callbacks ] || callbacks=''
name=${CO_INPUT_NAME:-world}
greeting="Hello, ${name}!"
# the greeting as a JSON string: backslash, quote, then control characters
json=${greeting//\\/\\\\}
json=${json//\"/\\\"}
json=${json//$'\n'/\\n}
json=${json//[$'\001'-$'\037']/ }

if [ -n "$callbacks" ]; then
  post CO_COMPONENT_START '{}'
  post CO_TASK_START '{}'
  post CO_TASK_STATUS '{"message":"composing the greeting","progress":0.5}'
fi
printf '%s\n' "$greeting"
if [ -n "$callbacks" ]; then
  post CO_TASK_RESULT "{\"status\":\"success\",\"output\":{\"greeting\":\"$json\"}}"
  post CO_COMPONENT_STOP '{}'
fi
