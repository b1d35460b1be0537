#!/bin/busybox sh
# bench-wget-noop: COMPONENT_START, TASK_START, TASK_RESULT, COMPONENT_STOP from busybox sh, one
# busybox wget process per call (the event data comes in CO_DATA, so no GET). Without the CO_*
# variables it makes no call, which is what the bare loop measures.
[ -n "$CO_COMPONENT_START" ] || exit 0
post() {
  busybox wget -q -O /dev/null --header 'content-type: application/json' --post-data "$2" "$1" || exit 1
}
post "$CO_COMPONENT_START" '{}'
post "$CO_TASK_START" '{}'
post "$CO_TASK_RESULT" '{"status":"success","output":{"ok":true}}'
post "$CO_COMPONENT_STOP" '{}'
