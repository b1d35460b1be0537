#!/bin/busybox sh
# bench-sh-noop: the exit-code style in busybox sh: starts and exits 0, no callbacks. The baseline
# of the busybox wget five-callback style (wget-noop).
exit 0
