#!/bin/sh
# checksum-cout: the contract for images with no HTTP client. The engine reads
# `[COUT] KEY=value` lines on stdout as outputs and `[COUT] CO_RESULT=true|false` as the verdict.
set -eu

file=${CO_INPUT_FILE:-}
workspace=${CO_WORKSPACE:-$(pwd)}
if [ -z "$file" ]; then
  echo "checksum-cout: input \"file\" is required" >&2
  echo "[COUT] CO_RESULT=false"
  exit 1
fi
case $file in
  /*) path=$file ;;
  *) path=$workspace/$file ;;
esac
if [ ! -f "$path" ]; then
  echo "checksum-cout: $file: no such file in the workspace" >&2
  echo "[COUT] CO_RESULT=false"
  exit 1
fi

sum=$(sha256sum "$path" | cut -d ' ' -f 1)
echo "sha256 of $file: $sum"
echo "[COUT] file=$file"
echo "[COUT] sha256=$sum"
echo "[COUT] CO_RESULT=true"
