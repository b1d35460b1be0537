#!/bin/sh
# greet-sh: the whole component contract with nothing but a POSIX shell and wget.
# Reads CO_INPUT_NAME (the engine exports each scalar field of the event data as CO_INPUT_*),
# so no JSON parser is needed. Run by hand (no CO_* variables) it just prints the greeting.
set -eu

# POST a JSON body to a callback URL. Options busybox wget understands too.
# Without the content type, wget would send a form body and the engine would refuse it.
post() {
  [ -n "${1:-}" ] || return 0
  wget -q -O /dev/null --header='Content-Type: application/json' --post-data="$2" "$1"
}

# Escape a string for a JSON string literal: backslash and quote; tabs and other control
# characters become spaces; newlines become \n.
json_escape() {
  printf '%s' "$1" \
    | tr '\001-\011\013-\037' ' ' \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
    | awk '{ if (NR > 1) printf "%s", "\\n"; printf "%s", $0 }'
}

post "${CO_COMPONENT_START:-}" '{}'
post "${CO_TASK_START:-}" '{}'

name=${CO_INPUT_NAME:-world}
post "${CO_TASK_STATUS:-}" '{"message":"composing the greeting","progress":0.5}'
greeting="Hello, ${name}!"
echo "$greeting"

post "${CO_TASK_RESULT:-}" "{\"status\":\"success\",\"output\":{\"greeting\":\"$(json_escape "$greeting")\"}}"
post "${CO_COMPONENT_STOP:-}" '{}'
