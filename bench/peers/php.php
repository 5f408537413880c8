<?php
// PHP's cycle collector (Debian's php-cli) as a peer, on the workloads that
// fit it: cyclic garbage (gc_collect_cycles after dropping two-object cycles
// or rings of ten), the churn of an instance, and memory per 2-slot object.
// PHP also counts references and frees at zero; its collector examines only
// the "possible roots" buffer, so a full collection of a live heap that was
// not modified costs nothing and does not fit.
//
//   php php.php cycles pair|ring10 N | churn instance N | memory node N
//
// Prints the JSON lines of the other benchmarks, with impl "php". Timed on
// the process's CPU time (getrusage: PHP is single-threaded; microsecond
// resolution, over timed spans of milliseconds), as the other programs
// are on their thread's, and beside it on the wall clock (wall_*).

final class Node { public $a = null; public $b = null; }
final class C {}

function emit($bench, $case, $n, $metric, $value) {
    echo json_encode(["bench" => $bench, "case" => $case, "n" => $n, "impl" => "php",
                      "metric" => $metric, "value" => $value]), "\n";
}

function uss() {
    $t = 0;
    foreach (file("/proc/self/smaps_rollup") as $line) {
        if (preg_match('/^Private_(Clean|Dirty):\s+(\d+) kB/', $line, $m)) $t += (int)$m[2] * 1024;
    }
    return $t;
}

// CPU nanoseconds (user + system) of the process.
function cpu_ns() {
    $r = getrusage();
    return ($r["ru_utime.tv_sec"] + $r["ru_stime.tv_sec"]) * 1e9 + ($r["ru_utime.tv_usec"] + $r["ru_stime.tv_usec"]) * 1e3;
}

function median($v) { sort($v); $k = count($v); return $k % 2 ? $v[intdiv($k, 2)] : ($v[$k / 2 - 1] + $v[$k / 2]) / 2; }

function make_garbage($ring, $n) {
    for ($made = 0; $made + $ring <= $n; $made += $ring) {
        $first = new Node(); $prev = $first;
        for ($k = 1; $k < $ring; $k++) { $x = new Node(); $prev->a = $x; $prev = $x; }
        $prev->a = $first;
    }
}

[$_, $bench, $case, $n] = $argv;
$n = (int)$n;
gc_disable();
if ($bench === "cycles") {
    $ring = $case === "pair" ? 2 : 10;
    $v = []; $w = [];
    for ($r = 0; $r < 3; $r++) {
        gc_collect_cycles();
        make_garbage($ring, $n);
        $c0 = cpu_ns(); $t0 = hrtime(true);
        $found = gc_collect_cycles();
        $t1 = hrtime(true); $c1 = cpu_ns();
        $v[] = ($c1 - $c0) / max(1, $found);
        $w[] = ($t1 - $t0) / max(1, $found);
    }
    emit($bench, $case, $n, "ns_per_freed", median($v));
    emit($bench, $case, $n, "wall_ns_per_freed", median($w));
} elseif ($bench === "churn") {
    $v = []; $w = [];
    for ($r = 0; $r < 3; $r++) {
        $c0 = cpu_ns(); $t0 = hrtime(true);
        for ($i = 0; $i < $n; $i++) { $x = new C(); }
        $c1 = cpu_ns(); $t1 = hrtime(true);
        for ($i = 0; $i < $n; $i++) { }
        $c2 = cpu_ns(); $t2 = hrtime(true);
        // the empty loop subtracted, as churn.py does
        $v[] = max(0, ($c1 - $c0) - ($c2 - $c1)) / $n;
        $w[] = max(0, ($t1 - $t0) - ($t2 - $t1)) / $n;
    }
    emit($bench, $case, $n, "ns_per_object", median($v));
    emit($bench, $case, $n, "wall_ns_per_object", median($w));
} elseif ($bench === "memory") {
    $holder = array_fill(0, $n, null);
    $before = uss();
    for ($i = 0; $i < $n; $i++) { $holder[$i] = new Node(); }
    emit($bench, $case, $n, "bytes_per_obj", (uss() - $before) / $n);
}
