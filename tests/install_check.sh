#!/usr/bin/env bash
# Installs a built recycle into a temporary prefix (`cmake --install`, what
# `make install PREFIX=...` runs) and builds the small consumer of
# tests/consumer against it the two ways the README shows: with pkg-config
# (shared and static) and with CMake's find_package(recycle) (the targets
# recycle::recycle and recycle::recycle_static). Each program is started
# without LD_LIBRARY_PATH, and the versions installed are compared with the
# header's. Run by ctest as `install_check`.
#
# usage: install_check.sh SOURCE_DIR BUILD_DIR WORK_DIR C_COMPILER [SANITIZER_FLAGS]
#
# SANITIZER_FLAGS are the flags the library was built with (the debug build
# uses -fsanitize=address,undefined): a program linked with an instrumented
# library must be built with them too.
# Exits 77 (ctest's skip) only when pkg-config is missing; .ci/run installs it.
set -euo pipefail

src=$1
build=$2
work=$3
cc=$4
san=${5:-}

if ! command -v pkg-config >/dev/null 2>&1; then
    echo "install_check: pkg-config not found: skipped"
    exit 77
fi

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

pc=$(find "$prefix" -name recycle.pc | head -n 1)
if [ -z "$pc" ]; then
    echo "install_check: recycle.pc was not installed" >&2
    exit 1
fi
pcdir=$(dirname "$pc")
test -f "$prefix/include/recycle.h"

# The installed .pc derives its prefix from its own location (${pcfiledir}),
# so an install under any --prefix is found as it is.
pkgconf() {
    PKG_CONFIG_PATH=$pcdir pkg-config "$@"
}
libdir=$(pkgconf --variable=libdir recycle)
echo "== pkg-config: recycle $(pkgconf --modversion recycle), libdir $libdir"

# One version source: the header's RCY_VERSION_* lines, which CMake reads for
# recycle.pc, recycleConfigVersion.cmake and the library's SOVERSION.
version=$(awk '/^#define RCY_VERSION_(MAJOR|MINOR|PATCH) /{ v = v (v == "" ? "" : ".") $3 } END { print v }' \
    "$prefix/include/recycle.h")
cmake_version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$(find "$prefix" -name recycleConfigVersion.cmake | head -n 1)")
echo "== versions: header $version, pkg-config $(pkgconf --modversion recycle), CMake package $cmake_version"
if [ "$(pkgconf --modversion recycle)" != "$version" ] || [ "$cmake_version" != "$version" ]; then
    echo "install_check: the installed versions differ from the header's ($version)" >&2
    exit 1
fi
test -e "$libdir/librecycle.so.${version%%.*}"
test -f "$libdir/librecycle.a"

# shellcheck disable=SC2046,SC2086 # the flag lists are meant to be split
{
    # recycle.pc's Libs carry -Wl,-rpath,${libdir}: the program starts
    # without LD_LIBRARY_PATH although the prefix is no system directory.
    echo "== pkg-config, shared library (started without LD_LIBRARY_PATH)"
    "$cc" $san -o "$work/consumer_pc_shared" "$src/tests/consumer/main.c" $(pkgconf --cflags --libs recycle)
    env -u LD_LIBRARY_PATH "$work/consumer_pc_shared"
    env -u LD_LIBRARY_PATH ldd "$work/consumer_pc_shared" | grep "$libdir/librecycle.so" >/dev/null

    echo "== pkg-config, static library"
    "$cc" $san -o "$work/consumer_pc_static" "$src/tests/consumer/main.c" $(pkgconf --cflags recycle) \
        $(pkgconf --libs-only-L recycle) -Wl,-Bstatic -lrecycle -Wl,-Bdynamic -lpthread
    "$work/consumer_pc_static"
    if ldd "$work/consumer_pc_static" | grep librecycle >/dev/null; then
        echo "install_check: the static consumer links the shared library" >&2
        exit 1
    fi
}

echo "== CMake find_package(recycle)"
cmake -S "$src/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_BUILD_TYPE=Release >"$work/consumer-configure.log"
cmake --build "$work/consumer" >"$work/consumer-build.log"
out=$(env -u LD_LIBRARY_PATH "$work/consumer/consumer_shared")
echo "$out"
case $out in
"recycle $version:"*) ;;
*)
    echo "install_check: the find_package consumer reports another version than $version" >&2
    exit 1
    ;;
esac
env -u LD_LIBRARY_PATH ldd "$work/consumer/consumer_shared" | grep "$(cd "$libdir" && pwd -P)/librecycle.so" >/dev/null
"$work/consumer/consumer_static"

echo "install_check: ok"
