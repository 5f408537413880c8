#!/usr/bin/env bash
# The shared library exports exactly the functions listed in
# tests/exported-symbols.txt, and recycle.h declares exactly those, each
# with RCY_API. An export added or lost (a new public function, a
# forgotten RCY_API, an internal function that lost its static or
# RCYI_FUNC) fails until the list is updated on purpose. Run by ctest as
# `exported_symbols`.
#
# usage: check_exports.sh [--update] LIBRARY HEADER LIST
#   LIBRARY  the built librecycle.so
#   HEADER   include/recycle.h
#   LIST     tests/exported-symbols.txt (rewritten from LIBRARY with --update)
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -ne 3 ]; then
    echo "usage: $0 [--update] LIBRARY HEADER LIST" >&2
    exit 2
fi
lib=$1
header=$2
list=$3

if [ ! -f "$lib" ]; then
    echo "check_exports: $lib not found (build the 'recycle' target first)" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The dynamic symbols the library defines, without those the toolchain adds
# to every shared object (_init, _fini, _edata, ...) and those sanitizer
# instrumentation adds (__asan_*, __odr_asan_*, __ubsan_*, __tsan_*,
# __sanitizer_*): only recycle's own names are compared.
nm -D --defined-only "$lib" | awk '{ print $NF }' |
    grep -Ev '^(_init|_fini|_edata|_end|__bss_start|__(odr_)?asan.*|__ubsan.*|__tsan.*|__sanitizer.*|___asan.*)$' |
    LC_ALL=C sort -u >"$tmp/exported"

if [ "$update" -eq 1 ]; then
    cp "$tmp/exported" "$list"
    echo "check_exports: wrote $(wc -l <"$list") symbols to $list"
    exit 0
fi

status=0
if ! LC_ALL=C sort -c "$list" 2>/dev/null || [ "$(LC_ALL=C sort -u "$list" | wc -l)" -ne "$(wc -l <"$list")" ]; then
    echo "check_exports: $list is not sorted (LC_ALL=C sort -u) or has duplicates" >&2
    status=1
fi

if ! diff -u "$list" "$tmp/exported" >"$tmp/diff"; then
    echo "check_exports: the exports of $lib differ from $list" >&2
    echo "('+' lines are exported but not listed, '-' lines listed but no longer exported):" >&2
    tail -n +3 "$tmp/diff" | grep '^[-+]' >&2 || true
    echo "If the change is intended (a public function added or removed), update the list:" >&2
    echo "  bash $0 --update $lib $header $list" >&2
    echo "and commit it with the header change." >&2
    status=1
fi

# Every function recycle.h declares (a prototype at the start of a line,
# not static inline) carries RCY_API, and the declared set is the list.
if grep -nE '^(const )?(unsigned )?[a-z_0-9]+( \*| | \*\*)\*?rcy_[a-z_0-9]+\(' "$header" >"$tmp/bare"; then
    echo "check_exports: public functions declared without RCY_API in $header:" >&2
    cat "$tmp/bare" >&2
    status=1
fi
grep -E '^RCY_API ' "$header" | grep -oE 'rcy_[a-z_0-9]+\(' | tr -d '(' | LC_ALL=C sort -u >"$tmp/declared"
if ! diff -u "$list" "$tmp/declared" >"$tmp/diff2"; then
    echo "check_exports: the RCY_API declarations of $header differ from $list" >&2
    echo "('+' lines are declared but not listed, '-' lines listed but not declared):" >&2
    tail -n +3 "$tmp/diff2" | grep '^[-+]' >&2 || true
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "check_exports: $(wc -l <"$list") exported functions, as listed and declared"
fi
exit "$status"
