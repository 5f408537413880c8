#!/usr/bin/env bash
# Whether two builds of the library compiled the given functions to the same
# machine code (addresses and relocations normalized): how
# docs/benchmarks.md shows that allocation sites cost nothing on the
# allocation and death paths while they are not used.
#   bench/same_code.sh OLD/librecycle.a NEW/librecycle.a [FUNCTION...]
set -euo pipefail
old=$1
new=$2
shift 2
fns=("$@")
if [ ${#fns[@]} -eq 0 ]; then
    fns=(rcy_new rcy_new_var rcy_list_new rcy_dict_new rcy_tuple_new rcy_instance_new rcy_decref_slow
         list_on_death dict_on_death tuple_on_death instance_on_death dealloc rcyi_trash_drain)
fi
body() {
    objdump -d --no-show-raw-insn "$1" | awk -v f="<$2>:" '$2 == f {p = 1; next} p && /^$/ {p = 0} p' |
        sed 's/^ *[0-9a-f]*:[[:space:]]*//; s/[0-9a-f]* <\([A-Za-z_0-9.]*\)+0x[0-9a-f]*>/<\1+off>/g; s/#.*//'
}
status=0
for f in "${fns[@]}"; do
    a=$(body "$old" "$f")
    b=$(body "$new" "$f")
    if [ -z "$b" ]; then
        echo "$f: not found"
        status=1
    elif [ "$a" = "$b" ]; then
        echo "$f: $(printf '%s\n' "$b" | wc -l) instructions, identical"
    else
        echo "$f: different"
        status=1
    fi
done
exit $status
