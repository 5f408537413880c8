#!/usr/bin/env bash
# The heap dump and the HTML report checked from outside the library:
#   report_browser.sh TEST_HEAPDUMP WORKDIR
# runs the test program (tests/test_heapdump.c) to write heap.jsonl and
# report.html for the seeds' leak into WORKDIR, reads every dump record with
# Python's json module and checks the graph is consistent, then loads the
# report in a real headless browser (Debian's chromium, or Chrome) with
# --dump-dom: the page's script must finish (body data-status="ok"), the
# browser's log must hold no console message (an uncaught error is logged
# as "CONSOLE"), and the rendered DOM must have the rows the known heap
# gives. Exits 77 (skipped) with a message when no browser is installed.
set -euo pipefail

bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
"$bin" "$dir" >"$dir/test.log" 2>&1 || { cat "$dir/test.log"; exit 1; }

if command -v python3 >/dev/null 2>&1; then
python3 - "$dir/heap.jsonl" <<'PY'
import json, sys
recs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
head, end = recs[0], recs[-1]
assert head["t"] == "header" and head["format"] == "recycle-heap-dump" and head["version"] == 1, head
assert end == {"t": "end"}, end
by = {}
for r in recs[1:-1]:
    by.setdefault(r["t"], []).append(r)
types, sites, objs, edges = (by.get(k, []) for k in ("type", "site", "object", "edge"))
assert len(types) == head["types"] and len(sites) == head["sites"], head
assert len(objs) == head["objects"] and len(edges) == head["edges"], head
assert [o["object"] for o in objs] == list(range(len(objs)))
assert sum(o["size"] for o in objs) == head["bytes"]
for o in objs:
    assert 0 <= o["type"] < len(types)
    assert o["site"] is None or 0 <= o["site"] < len(sites)
    assert o["idom"] is None or 0 <= o["idom"] < len(objs)
    assert (o["idom"] is None) == (o["root_kind"] is not None), o
    assert o["retained"] >= o["size"] and o["retained_objects"] >= 1
    assert isinstance(o["id"], int) and o["id"] > 0
assert len({o["id"] for o in objs}) == len(objs), "ids are unique"
indeg = [0] * len(objs)
for e in edges:
    assert 0 <= e["from"] < len(objs) and 0 <= e["to"] < len(objs)
    assert e["kind"] in ("field", "index", "key", "value")
    indeg[e["to"]] += 1
for o in objs:
    if o["refcnt"] != "immortal":
        assert o["refcnt"] - indeg[o["object"]] - (1 if o["root"] else 0) == o["external"], o
names = {t["type"]: t["name"] for t in types}
roots = [o for o in objs if o["root"] == "globals"]
assert len(roots) == 1 and roots[0]["retained"] == head["bytes"], roots
sessions = [o for o in objs if names[o["type"]] == "Session"]
assert len(sessions) == 5 and all(o["site"] is not None for o in sessions)
cache = [e for e in edges if e["label"] == "cache"]
assert len(cache) == 1 and names[objs[cache[0]["to"]]["type"]] == "list"
def fmt(n):  # the page's own formatting of byte counts
    if n >= 1048576: return "%.1f MiB" % (n / 1048576)
    if n >= 1024: return "%.1f KiB" % (n / 1024)
    return "%d B" % n
with open(sys.argv[1] + ".expect", "w") as f:
    # the report is written by another test on a heap of the same shape
    json.dump({"summary": "%d objects (%s), %d references" % (len(objs), fmt(head["bytes"]), len(edges)),
               "root": "%s (%d objects)" % (fmt(roots[0]["retained"]), roots[0]["retained_objects"])}, f)
print("dump: %d objects, %d edges, %d types, %d sites: consistent" % (len(objs), len(edges), len(types), len(sites)))
PY
fi

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [ -z "$browser" ]; then
    echo "SKIPPED: no headless browser (install Debian's chromium: apt-get install chromium); the dump was checked"
    exit 77
fi

# --no-sandbox: CI runs as root, where chromium refuses its sandbox.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
    --dump-dom "file://$dir/report.html" >"$dir/dom.html" 2>"$dir/browser.log" || {
    echo "the browser failed:"; tail -20 "$dir/browser.log"; exit 1; }

fail=0
if grep -q ':CONSOLE' "$dir/browser.log"; then
    echo "console messages:"
    grep ':CONSOLE' "$dir/browser.log"
    fail=1
fi
python3 - "$dir/dom.html" "$dir/heap.jsonl.expect" <<'PY' || fail=1
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
want = json.load(open(sys.argv[2]))
problems = []
def need(what, pattern):
    if not re.search(pattern, dom):
        problems.append("missing in the rendered page: %s (%s)" % (what, pattern))
need("the script finished", r'data-status="ok"')
need("the Session type row, 5 objects", r'<tr data-type="Session"><td>Session</td><td class="num" data-v="5">5</td>')
need("the dict type row", r'<tr data-type="dict">')
need("the dominator tree", r'id="dominator-tree"')
need("the summary", re.escape(want["summary"]))
need("the tree's root and what it retains", re.escape(want["root"]))
need("the chain of the selected object", r'id="chain-path">globals\[\'cache\'\]<')
table = re.search(r'<table id="retainer-table">.*?</table>', dom)
rows = re.findall(r'<tr class="pick"[^>]*><td>#\d+</td><td>([^<]*)</td>', table.group(0)) if table else []
if rows[:2] != ["dict", "list"] or rows.count("Session") != 5:
    problems.append("largest retainers: %r (want the globals dict, the cache list, then 5 sessions among the rest)" % rows[:8])
sites = re.findall(r'<tr data-site="[^"]*test_heapdump\.c:\d+">', dom)
if len(sites) != 4:
    problems.append("allocation sites: %d rows from test_heapdump.c, want 4" % len(sites))
if problems:
    print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
if [ "$fail" -ne 0 ]; then
    echo "rendered page: $dir/dom.html"
    exit 1
fi
echo "report: rendered by $browser with no console message, every expected row present"
