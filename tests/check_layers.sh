#!/bin/sh
# The layer check (docs/design.md, "Layers"): every file of src/ calls the
# functions, and includes the headers, of its own layer and of the layers
# below, never of one above.
#
#   sh tests/check_layers.sh NM LIBRARY SOURCE_DIR         the check
#   sh tests/check_layers.sh --dot NM LIBRARY SOURCE_DIR   the picture (DOT)
#
# LIBRARY is the static library of a build (librecycle.a), NM the nm that
# reads it. What it checks, and what it cannot see:
#   - the layers are the rows of the table between "<!-- layers:" and
#     "<!-- layers:end -->" in docs/design.md (layer number, name, files as
#     `path` or `dir/*.c` patterns); every .c and .h file of src/ must match
#     one row, and the .c files must have distinct names (the library's
#     members are named by file name only);
#   - calls: every symbol an object file of LIBRARY leaves undefined (nm
#     "U") and another one defines is an arrow between their files. That is
#     the code as compiled in this build's configuration: calls and data,
#     functions taken by address, and the static inline functions and
#     macros of the headers where they are expanded; not calls through
#     function pointers (slots, hooks, callbacks), which is how a lower
#     layer runs code above it by design, nor code that this build's
#     options compile out (the test runs in every build);
#   - includes: every `#include "..."` line of every file of src/, resolved
#     against the including file's folder, then src/, then include/ (the
#     public header is below every layer);
#   - an arrow to a higher layer fails, unless the table between
#     "<!-- layers-allowed:" and "<!-- layers-allowed:end -->" allows it by
#     (from, to, symbol); an allowed arrow that no longer occurs fails too.
set -eu

dot=0
if [ "${1:-}" = "--dot" ]; then
    dot=1
    shift
fi
if [ $# -ne 3 ]; then
    echo "usage: check_layers.sh [--dot] NM LIBRARY SOURCE_DIR" >&2
    exit 2
fi
nm=$1
lib=$2
src=$3
design=$src/docs/design.md
tmp=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT

# Layers: "layer<TAB>name<TAB>pattern", one pattern a line.
awk -F'|' '
    /<!-- layers:end -->/ { on = 0 }
    on && $2 ~ /^ *[0-9]+ *$/ {
        layer = $2; gsub(/ /, "", layer)
        name = $3; gsub(/^ +| +$/, "", name)
        files = $4
        while (match(files, /`[^`]+`/)) {
            print layer "\t" name "\t" substr(files, RSTART + 1, RLENGTH - 2)
            files = substr(files, RSTART + RLENGTH)
        }
    }
    /<!-- layers:/ && !/layers:end/ { on = 1 }
' "$design" >"$tmp/patterns"
# Allowed upward arrows: "from<TAB>to<TAB>symbol".
awk -F'|' '
    /<!-- layers-allowed:end -->/ { on = 0 }
    on && $2 ~ /`/ {
        f = $2; t = $3; s = $4
        gsub(/[` ]/, "", f); gsub(/[` ]/, "", t); gsub(/[` ]/, "", s)
        print f "\t" t "\t" s
    }
    /<!-- layers-allowed:/ && !/layers-allowed:end/ { on = 1 }
' "$design" >"$tmp/allowed"
if [ ! -s "$tmp/patterns" ]; then
    echo "check_layers: no layer table in $design" >&2
    exit 1
fi

# Every file of src/ and its layer: "path<TAB>layer<TAB>name".
fail=0
(cd "$src" && find src -name '*.c' -o -name '*.h' | LC_ALL=C sort) >"$tmp/files"
: >"$tmp/layer_of"
while read -r f; do
    found=
    while IFS="$(printf '\t')" read -r layer name pat; do
        # shellcheck disable=SC2254
        case $f in
        $pat)
            found="$layer	$name"
            break
            ;;
        esac
    done <"$tmp/patterns"
    if [ -z "$found" ]; then
        echo "check_layers: $f is in no layer of the table in docs/design.md" >&2
        fail=1
    else
        printf '%s\t%s\n' "$f" "$found" >>"$tmp/layer_of"
    fi
done <"$tmp/files"
dups=$(grep '\.c	' "$tmp/layer_of" | awk -F'\t' '{ n = split($1, p, "/"); print p[n] }' | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "check_layers: two files of src/ share a name, which the library's members cannot tell apart: $dups" >&2
    fail=1
fi

# Calls: "from<TAB>to<TAB>symbol", from the library's symbol tables.
"$nm" -A "$lib" >"$tmp/nm" 2>/dev/null || {
    echo "check_layers: $nm -A $lib failed" >&2
    exit 1
}
awk -v layer_of="$tmp/layer_of" '
    BEGIN {
        FS = "\t"
        while ((getline line < layer_of) > 0) {
            split(line, a, "\t")
            if (a[1] ~ /\.c$/) { n = split(a[1], p, "/"); path[p[n]] = a[1] }
        }
        FS = " "
    }
    {
        # "LIBRARY:MEMBER:ADDRESS TYPE SYMBOL", "LIBRARY:MEMBER: U SYMBOL"
        k = split($1, m, ":"); member = m[k - 1]
        sub(/\.o$/, "", member)
        if (!(member in path) || NF < 3) next
        f = path[member]
        if ($(NF - 1) ~ /^[TDBRVWCGSi]$/) def[$NF] = f
        else if ($(NF - 1) == "U") { nu++; uf[nu] = f; us[nu] = $NF }
    }
    END {
        for (i = 1; i <= nu; i++)
            if ((us[i] in def) && def[us[i]] != uf[i]) print uf[i] "\t" def[us[i]] "\t" us[i]
    }
' "$tmp/nm" | LC_ALL=C sort -u >"$tmp/calls"
if [ ! -s "$tmp/calls" ]; then
    echo "check_layers: no calls between the members of $lib (not the static library of this source tree?)" >&2
    exit 1
fi

# Includes: "from<TAB>to<TAB>#include".
: >"$tmp/includes"
while read -r f; do
    dir=$(dirname "$f")
    grep -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$src/$f" | sed 's/.*"\(.*\)"/\1/' |
        while read -r h; do
            for cand in "$dir/$h" "src/$h" "include/$h"; do
                if [ -f "$src/$cand" ]; then
                    # normalize a/b/../c
                    norm=$(echo "$cand" | sed -e 's|/\./|/|g' -e ':a' -e 's|[^/]*/\.\./||' -e 'ta')
                    printf '%s\t%s\t#include\n' "$f" "$norm"
                    break
                fi
            done
        done >>"$tmp/includes"
done <"$tmp/files"

# Judge every arrow.
cat "$tmp/calls" "$tmp/includes" >"$tmp/arrows"
awk -v layer_of="$tmp/layer_of" -v allowed="$tmp/allowed" -v used="$tmp/used" '
    BEGIN {
        FS = "\t"
        while ((getline line < layer_of) > 0) { split(line, a, "\t"); lay[a[1]] = a[2]; nam[a[1]] = a[3] }
        while ((getline line < allowed) > 0) { split(line, a, "\t"); ok[a[1] "\t" a[2] "\t" a[3]] = 1 }
        bad = 0
    }
    {
        if (!($2 in lay)) next  # include/recycle.h: the public header, below every layer
        if (!($1 in lay)) next
        if (lay[$1] + 0 >= lay[$2] + 0) next
        key = $1 "\t" $2 "\t" $3
        if (key in ok) { print key > used; next }
        printf "check_layers: upward arrow: %s (layer %s, %s) -> %s (layer %s, %s): %s\n", \
            $1, lay[$1], nam[$1], $2, lay[$2], nam[$2], $3 > "/dev/stderr"
        bad = 1
    }
    END { exit bad }
' "$tmp/arrows" || fail=1
touch "$tmp/used"
while IFS="$(printf '\t')" read -r f t s; do
    if ! grep -qxF "$(printf '%s\t%s\t%s' "$f" "$t" "$s")" "$tmp/used"; then
        echo "check_layers: the allowed upward arrow $f -> $t ($s) no longer occurs: remove its row from docs/design.md" >&2
        fail=1
    fi
done <"$tmp/allowed"

if [ $dot -eq 1 ]; then
    awk -v layer_of="$tmp/layer_of" -v lib="$(basename "$lib")" -v edges="$tmp/edges" '
        BEGIN {
            FS = "\t"
            while ((getline line < layer_of) > 0) {
                split(line, a, "\t")
                lay[a[1]] = a[2]; lname[a[2]] = a[3]
                if (a[1] ~ /\.c$/ || a[1] ~ /\.h$/) members[a[2]] = members[a[2]] (members[a[2]] == "" ? "" : "\\n") a[1]
                if (a[2] + 0 > maxl) maxl = a[2] + 0
            }
        }
        $3 != "#include" && ($1 in lay) && ($2 in lay) && lay[$1] != lay[$2] { n[lay[$1] "\t" lay[$2]]++ }
        END {
            print "digraph layers {"
            print "  graph [rankdir=TB, nodesep=0.3, ranksep=0.45, fontname=\"Helvetica\", fontsize=11, labelloc=b,"
            print "         label=\"layers of src/ (docs/design.md); arrows: distinct (file, file, symbol) uses between layers, from " lib "\"];"
            print "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", fontname=\"Helvetica\", fontsize=10];"
            print "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];"
            prev = -1
            for (l = maxl; l >= 0; l--)
                if (l in lname) {
                    printf "  L%d [label=\"%d  %s\\n%s\"];\n", l, l, lname[l], members[l]
                    if (prev >= 0) printf "  L%d -> L%d [style=invis];\n", prev, l  # one rank a layer
                    prev = l
                }
            for (k in n) {
                split(k, a, "\t")
                up = a[1] + 0 < a[2] + 0
                printf "  L%s -> L%s [label=\"%d\"%s];\n", a[1], a[2], n[k], up ? ", color=red, style=dashed, constraint=false" : "" > edges
            }
        }
    ' "$tmp/arrows"
    LC_ALL=C sort "$tmp/edges"
    echo "}"
fi

if [ $fail -ne 0 ]; then
    echo "check_layers: FAILED (see docs/design.md, Layers)" >&2
    exit 1
fi
if [ $dot -eq 0 ]; then
    echo "check_layers: $(wc -l <"$tmp/files") files in $(cut -f1 "$tmp/patterns" | sort -u | wc -l) layers;" \
        "$(wc -l <"$tmp/calls") cross-file symbol uses and $(wc -l <"$tmp/includes") includes, none upward" \
        "but the $(wc -l <"$tmp/allowed") allowed"
fi
