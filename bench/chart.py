"""Draws the chart of the main ratios (recycle / reference CPython, lower is
better) as a PNG, with the standard library only: a horizontal bar per
benchmark row, a line at 1.0 (parity) and the row's target where the issue
set one. A 5x7 bitmap font writes the labels.

    chart.draw(rows, ref_label, "ratios.png")   (rows as bench/run.py makes them)
"""
import struct
import zlib

# 5x7 glyphs, one string of 7 rows of 5 bits per character.
FONT = {
    " ": "00000" * 7,
    "0": "01110100011001110101110011000101110", "1": "00100011000010000100001000010001110",
    "2": "01110100010000100010001000100011111", "3": "11111000100010000010000011000101110",
    "4": "00010001100101010010111110001000010", "5": "11111100001111000001000011000101110",
    "6": "00110010001000011110100011000101110", "7": "11111000010001000100010000100001000",
    "8": "01110100011000101110100011000101110", "9": "01110100011000101111000010001001100",
    ".": "00000000000000000000000000110001100", ",": "00000000000000000000001100010001000",
    "/": "00001000010001000100010001000010000", "-": "00000000000000011111000000000000000",
    "_": "00000000000000000000000000000011111", ":": "00000011000110000000011000110000000",
    "x": "00000000001000101010001000101010001", "(": "00010001000100001000010000010000010",
    ")": "01000001000001000010000100010001000", "%": "11000110010001000100010001001100011",
    "=": "00000000001111100000111110000000000", "<": "00010001000100010000010000010000010",
    ">": "01000001000001000001000100010001000", "*": "00000001001010101110101010010000000",
    "|": "00100" * 7, ";": "00000011000110000000011000100010000",
}
for _c, _g in {
    "a": "00000000000111000001011111000101111", "b": "10000100001011011001100011000111110",
    "c": "00000000000111010000100001000101110", "d": "00001000010110110011100011000101111",
    "e": "00000000000111010001111111000001110", "f": "00110010010100011100010000100001000",
    "g": "00000011111000110001011110000101110", "h": "10000100001011011001100011000110001",
    "i": "00100000000110000100001000010001110", "j": "00010000000011000010000101001001100",
    "k": "10000100001001010100110001010010010", "l": "01100001000010000100001000010001110",
    "m": "00000000001101010101101011000110001", "n": "00000000001011011001100011000110001",
    "o": "00000000000111010001100011000101110", "p": "00000000001111010001111101000010000",
    "q": "00000000000110110011011110000100001", "r": "00000000001011011001100001000010000",
    "s": "00000000000111010000011100000111110", "t": "01000010001110001000010000100100110",
    "u": "00000000001000110001100011001101101", "v": "00000000001000110001100010101000100",
    "w": "00000000001000110001101011010101010", "y": "00000000001000110001011110000101110",
    "z": "00000000001111100010001000100011111",
}.items():
    FONT[_c] = _g


class Canvas(object):
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def rect(self, x0, y0, x1, y1, rgb):
        x0, x1 = max(0, int(x0)), min(self.w, int(x1))
        y0, y1 = max(0, int(y0)), min(self.h, int(y1))
        row = bytes(rgb) * max(0, x1 - x0)
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.px[i:i + len(row)] = row

    def text(self, x, y, s, rgb=(0, 0, 0), scale=2):
        for ch in s:
            g = FONT.get(ch, FONT.get(ch.lower(), FONT[" "]))
            for r in range(7):
                for c in range(5):
                    if g[r * 5 + c] == "1":
                        self.rect(x + c * scale, y + r * scale, x + (c + 1) * scale, y + (r + 1) * scale, rgb)
            x += 6 * scale
        return x

    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(tag, data):
            c = struct.pack(">I", len(data)) + tag + data
            return c + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
            f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)))
            f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
            f.write(chunk(b"IEND", b""))


# The targets (ratio to CPython 3.11), by (bench, metric).
TARGETS = {
    ("fullgc", "ns_per_obj", "tree"): 0.25, ("fullgc", "ns_per_obj", "listtree"): 0.25,
    ("fullgc", "ns_per_obj", "graph"): 0.5, ("cycles", "ns_per_freed", None): 0.3,
    ("pauses", "gen0_median_us", None): 0.5, ("pauses", "gen0_p99_us", None): 0.5,
    ("pauses", "gen1_median_us", None): 0.5, ("pauses", "gen1_p99_us", None): 0.5,
    ("pauses", "gen2_median_us", None): 0.25, ("pauses", "gen2_p99_us", None): 0.25,
    ("pauses", "gen0_cpu_median_us", None): 0.5, ("pauses", "gen0_cpu_p99_us", None): 0.5,
    ("pauses", "gen1_cpu_median_us", None): 0.5, ("pauses", "gen1_cpu_p99_us", None): 0.5,
    ("pauses", "gen2_cpu_median_us", None): 0.25, ("pauses", "gen2_cpu_p99_us", None): 0.25,
    ("churn", "ns_per_object", None): 0.5, ("memory", "bytes_per_obj", None): 1.0,
}


def target(row):
    return TARGETS.get((row["bench"], row["metric"], row["case"]), TARGETS.get((row["bench"], row["metric"], None)))


def draw(rows, ref_label, path):
    # One bar per row at the largest size measured for that (bench, case, metric).
    best = {}
    for r in rows:
        if r.get("ratio") is None:
            continue
        k = (r["bench"], r["case"], r["metric"])
        if k not in best or r["n"] > best[k]["n"]:
            best[k] = r
    items = list(best.values())
    scale, lh = 2, 26
    left, right, top = 520, 60, 70
    width = 1300
    height = top + lh * len(items) + 60
    cv = Canvas(width, height)
    cv.text(10, 10, "recycle / %s (lower is better; | = target, line = parity)" % ref_label, scale=scale)
    vmax = max([2.0] + [min(r["ratio"], 4.0) for r in items])
    span = width - left - right

    def xof(v):
        return left + span * min(v, vmax) / vmax

    for i, r in enumerate(items):
        y = top + i * lh
        label = "%s %s %s n=%s" % (r["bench"], r["case"], r["metric"].replace("_", " "), short(r["n"]))
        cv.text(10, y + 5, label[:42], scale=scale)
        t = target(r)
        ok = t is None or r["ratio"] <= t
        cv.rect(left, y + 3, xof(r["ratio"]), y + lh - 5, (60, 150, 80) if ok else (200, 80, 60))
        cv.text(xof(r["ratio"]) + 6, y + 5, "%.2f" % r["ratio"], scale=scale)
        if t is not None:
            cv.rect(xof(t) - 1, y, xof(t) + 2, y + lh - 2, (0, 0, 0))
    cv.rect(xof(1.0), top - 8, xof(1.0) + 1, top + lh * len(items), (80, 80, 200))
    for v in (0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        if v <= vmax:
            cv.rect(xof(v), top + lh * len(items), xof(v) + 1, top + lh * len(items) + 6, (0, 0, 0))
            cv.text(xof(v) - 10, top + lh * len(items) + 10, "%g" % v, scale=scale)
    cv.png(path)


def short(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)
