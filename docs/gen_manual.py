#!/usr/bin/env python3
"""Generates recycle's manual from include/recycle.h: an HTML page and a man
page (recycle(3)), with every public declaration and its comment, grouped
by the header's sections, in the header's order (as zstd, jemalloc and bdwgc
ship a manual made from their headers).

    python3 docs/gen_manual.py include/recycle.h --html out.html --man out.3
    python3 docs/gen_manual.py include/recycle.h --check tests/exported-symbols.txt

The header is read as it is written (docs/design.md, "The public header and
its symbols"): the first comment is the introduction, with its own
"---- Title ----" parts; "/* ---- Title ---- */" opens a section and
"/* -- Title -- */" a part of one; a comment directly above code documents
it (functions, inline functions, macros, types), a comment followed by a
blank line is prose of its section. --check fails (exit 1) unless every
name of the list (the exported functions) has an entry with a comment.
Needs python3 only.
"""

import argparse
import html
import re
import sys

SECTION = re.compile(r"^/\* -{4} (.*?) -+ \*/$")
PART = re.compile(r"^/\* -- (.*?) -- \*/$")
INTRO_PART = re.compile(r"^-{4} (.*?) -+$")
SKIP = re.compile(r'^(#ifndef RECYCLE_H|#define RECYCLE_H|#include |#ifdef __cplusplus|#endif|extern "C" \{|\})')


class Entry:
    def __init__(self, comment, code):
        self.comment = comment  # list of text lines (may be empty)
        self.code = code  # list of code lines
        self.names = names_of(code)


def comment_text(lines):
    """The text of a /* */ or /** */ comment, without its markers."""
    text = "\n".join(lines)
    text = re.sub(r"^/\*\*?<?", "", text.strip())
    text = re.sub(r"\*/$", "", text)
    out = []
    for line in text.split("\n"):
        line = re.sub(r"^\s*\* ?", "", line) if re.match(r"^\s*\*", line) else line.strip()
        out.append(line.rstrip())
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def names_of(code):
    """The public names a block of code declares."""
    names = []
    text = "\n".join(code)
    first = code[0]
    if first.startswith("#ifndef RCY_API"):
        return ["RCY_API"]
    m = re.match(r"#define (\w+)", first)
    if m:
        return [m.group(1)]
    if first.startswith("typedef"):
        m = re.search(r"\(\*(rcy_\w+)\)", first)
        if m:
            return [m.group(1)]
        m = re.search(r"(\w+)\s*;\s*$", text)
        return [m.group(1)] if m else []
    m = re.match(r"enum (\w+)", first)
    if m:
        return ["enum " + m.group(1)]
    for line in code:
        m = re.match(r"^(?:RCY_API |static inline )[^(]*?\b(rcy_\w+)\(", line)
        if m:
            names.append(m.group(1))
    return names


def block_end(lines, i):
    """Index after the code block starting at lines[i]."""
    first = lines[i]
    if first.startswith("#if"):
        depth = 0
        while i < len(lines):
            if lines[i].startswith("#if"):
                depth += 1
            elif lines[i].startswith("#endif"):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return i
    if first.startswith("#define"):
        while i < len(lines) and lines[i].rstrip().endswith("\\"):
            i += 1
        return i + 1
    depth = 0
    while i < len(lines):
        depth += lines[i].count("{") - lines[i].count("}")
        line = lines[i].rstrip()
        if depth == 0 and (line.endswith(";") or line.endswith("}")):
            return i + 1
        i += 1
    return i


def parse(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    intro = []
    sections = []  # [title, [items]]; an item is ("prose", lines) / ("part", title) / ("entry", Entry)
    i = 0
    # The introduction: the first comment of the file.
    if lines and lines[0].startswith("/*"):
        j = 0
        while not lines[j].rstrip().endswith("*/"):
            j += 1
        intro = comment_text(lines[: j + 1])
        i = j + 1
    current = ["The export macro and the handle types", []]
    sections.append(current)
    pending = None  # a comment waiting for its code
    while i < len(lines):
        line = lines[i]
        m = SECTION.match(line)
        if m:
            current = [m.group(1), []]
            sections.append(current)
            pending = None
            i += 1
            continue
        m = PART.match(line)
        if m:
            current[1].append(("part", m.group(1)))
            pending = None
            i += 1
            continue
        if line.startswith("/*"):
            j = i
            while not lines[j].rstrip().endswith("*/"):
                j += 1
            text = comment_text(lines[i : j + 1])
            i = j + 1
            if i < len(lines) and lines[i].strip() and not lines[i].startswith("/*"):
                pending = text
            else:
                current[1].append(("prose", text))
                pending = None
            continue
        if not line.strip():
            pending = None
            i += 1
            continue
        if SKIP.match(line) and pending is None:
            i += 1
            continue
        end = block_end(lines, i)
        code = [l.rstrip() for l in lines[i:end]]
        if code[0].startswith("#define") and len(code) > 1:
            code = [code[0].rstrip(" \\") + " ..."]
        if code[0].startswith("static inline"):
            code = [code[0] + ";"] if "{" not in code[0] else [code[0][: code[0].index("{")].rstrip() + ";"]
        items = current[1]
        previous = items[-1][1] if items and items[-1][0] == "entry" else None
        if pending is None and previous is not None and i > 0 and lines[i - 1].strip():
            # Code right below another entry's code shares its comment.
            previous.code.extend(code)
            previous.names.extend(names_of(code))
        else:
            items.append(("entry", Entry(pending or [], code)))
        pending = None
        i = end
    sections = [s for s in sections if s[1]]
    return intro, sections


def paragraphs(text):
    """Splits comment lines into paragraphs and lists of "- " items."""
    blocks, cur, kind = [], [], None
    for line in text + [""]:
        if not line.strip():
            if cur:
                blocks.append((kind, cur))
            cur, kind = [], None
        elif line.lstrip().startswith("- "):
            if cur and kind != "list":
                blocks.append((kind, cur))
                cur = []
            kind = "list"
            cur.append(line.lstrip()[2:])
        elif kind == "list" and line.startswith("  "):
            cur[-1] += " " + line.strip()
        else:
            if kind == "list":
                blocks.append((kind, cur))
                cur = []
            kind = "para"
            cur.append(line.strip())
    return blocks


def inline_html(s):
    s = html.escape(s, quote=False)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", s)


def anchor(name):
    return re.sub(r"[^A-Za-z0-9_]", "-", name)


def shown(code):
    """The code as the manual shows it: without the RCY_API export marker."""
    out = []
    strip = False
    for line in code:
        if line.startswith("RCY_API "):
            line, strip = line[len("RCY_API "):], True
        elif strip and line.startswith("        "):
            line = line[len("RCY_API "):]
        out.append(line)
    return out


def write_html(intro, sections, out):
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w("<title>recycle manual</title>\n<style>\n")
    w("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em;line-height:1.4}\n")
    w("pre{background:#f4f4f4;padding:.5em;overflow-x:auto}code{background:#f4f4f4}\n")
    w(".entry{margin-left:1em}nav li{display:inline;margin-right:1em}\n</style>\n</head>\n<body>\n")
    w("<h1>recycle manual</h1>\n<p>Generated from <code>include/recycle.h</code> by "
      "<code>docs/gen_manual.py</code>; every public declaration with its comment, by section.</p>\n")
    w("<nav><ul>\n<li><a href=\"#introduction\">Introduction</a></li>\n")
    for title, _ in sections:
        w(f"<li><a href=\"#s-{anchor(title)}\">{html.escape(title)}</a></li>\n")
    w("</ul></nav>\n")
    w("<h2 id=\"introduction\">Introduction</h2>\n")
    for part in split_intro(intro):
        if part[0]:
            w(f"<h3>{html.escape(part[0])}</h3>\n")
        write_html_text(part[1], w)
    for title, items in sections:
        w(f"<h2 id=\"s-{anchor(title)}\">{html.escape(title)}</h2>\n")
        names = [n for kind, e in items if kind == "entry" for n in e.names]
        if names:
            w("<p>" + ", ".join(f"<a href=\"#{anchor(n)}\"><code>{html.escape(n)}</code></a>" for n in names) + "</p>\n")
        for kind, item in items:
            if kind == "part":
                w(f"<h3>{html.escape(item)}</h3>\n")
            elif kind == "prose":
                write_html_text(item, w)
            else:
                for n in item.names:
                    w(f"<a id=\"{anchor(n)}\"></a>")
                w("<div class=\"entry\">\n<pre>" + html.escape("\n".join(shown(item.code))) + "</pre>\n")
                write_html_text(item.comment, w)
                w("</div>\n")
    w("</body>\n</html>\n")


def write_html_text(text, w):
    for kind, lines in paragraphs(text):
        if kind == "list":
            w("<ul>\n" + "".join(f"<li>{inline_html(l)}</li>\n" for l in lines) + "</ul>\n")
        else:
            w("<p>" + inline_html(" ".join(lines)) + "</p>\n")


def split_intro(intro):
    parts = [["", []]]
    for line in intro:
        m = INTRO_PART.match(line.strip())
        if m:
            parts.append([m.group(1), []])
        else:
            parts[-1][1].append(line)
    return [p for p in parts if p[0] or any(l.strip() for l in p[1])]


def roff(s):
    s = s.replace("\\", "\\e")
    s = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", s)
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def write_man(intro, sections, out):
    w = out.write
    w(".TH RECYCLE 3 \"\" \"recycle\" \"recycle manual\"\n")
    w(".SH NAME\nrecycle \\- CPython's memory management for C: reference counting and a cycle collector\n")
    w(".SH SYNOPSIS\n.nf\n#include <recycle.h>\n.fi\n")
    w("Link with \\fB\\-lrecycle\\fR (pkg\\-config: \\fBrecycle\\fR; CMake: \\fBrecycle::recycle\\fR).\n")
    w(".SH DESCRIPTION\n")
    for title, text in split_intro(intro):
        if title:
            w(f".SS {roff(title)}\n")
        write_man_text(text, w)
    for title, items in sections:
        w(f".SH {roff(title.upper())}\n")
        for kind, item in items:
            if kind == "part":
                w(f".SS {roff(item)}\n")
            elif kind == "prose":
                write_man_text(item, w)
            else:
                w(".PP\n.nf\n.ft B\n" + "\n".join(roff(l) for l in shown(item.code)) + "\n.ft R\n.fi\n")
                if item.comment:
                    w(".RS 4\n")
                    write_man_text(item.comment, w)
                    w(".RE\n")
    w(".SH SEE ALSO\nThe design notes (docs/design.md) and the leak-hunting guide (docs/leak-hunting.md) "
      "in the source tree.\n")


def write_man_text(text, w):
    for kind, lines in paragraphs(text):
        if kind == "list":
            for l in lines:
                w(".IP \\(bu 2\n" + roff(l) + "\n")
        else:
            w(".PP\n" + "\n".join(roff(l) for l in lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("header")
    ap.add_argument("--html", help="write the HTML manual here")
    ap.add_argument("--man", help="write the man page (recycle.3) here")
    ap.add_argument("--check", metavar="LIST", help="fail unless every name of LIST (one a line) is documented")
    args = ap.parse_args()
    intro, sections = parse(args.header)
    entries = [e for _, items in sections for kind, e in items if kind == "entry"]
    documented = {n for e in entries if e.comment for n in e.names}
    if args.html:
        with open(args.html, "w", encoding="utf-8") as f:
            write_html(intro, sections, f)
    if args.man:
        with open(args.man, "w", encoding="utf-8") as f:
            write_man(intro, sections, f)
    n_names = sum(len(e.names) for e in entries)
    print(f"gen_manual: {len(sections)} sections, {len(entries)} entries, {n_names} names"
          + (f"; wrote {args.html}" if args.html else "") + (f", {args.man}" if args.man else ""))
    if args.check:
        wanted = [l.strip() for l in open(args.check, encoding="utf-8") if l.strip()]
        missing = [n for n in wanted if n not in documented]
        if missing:
            print(f"gen_manual: {len(missing)} of the {len(wanted)} names of {args.check} have no documented "
                  "entry (a comment directly above their declaration, or above the declaration they follow):",
                  file=sys.stderr)
            for n in missing:
                print("  " + n, file=sys.stderr)
            return 1
        print(f"gen_manual: all {len(wanted)} names of {args.check} documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
