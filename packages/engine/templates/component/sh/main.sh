#!/bin/sh
# TEMPLATE_NAME: a Pilotage component in POSIX shell. It follows the whole callback contract with
# nothing but wget (busybox's works) and reads its input from CO_INPUT_NAME, so it needs no
# JSON parser. Run by hand (no CO_* variables), it just prints its greeting.
set -eu

# POST a JSON body to a callback URL; nothing when the URL is unset (a run by hand).
# The content type matters: without it wget sends a form body, which the engine refuses.
post() {
  [ -n "${1:-}" ] || return 0
  wget -q -O /dev/null --header='Content-Type: application/json' --post-data="$2" "$1"
}

# A text as the inside of a JSON string: backslashes and quotes escaped, control characters
# (newlines included) turned into spaces.
json_escape() {
  printf '%s' "$1" | tr '\001-\037' ' ' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

post "${CO_COMPONENT_START:-}" '{}'
post "${CO_TASK_START:-}" '{}'

name=${CO_INPUT_NAME:-world}
post "${CO_TASK_STATUS:-}" '{"message":"composing the greeting","progress":0.5}'
greeting="Hello, ${name}!"
echo "$greeting"

post "${CO_TASK_RESULT:-}" "{\"status\":\"success\",\"output\":{\"greeting\":\"$(json_escape "$greeting")\"}}"
post "${CO_COMPONENT_STOP:-}" '{}'
