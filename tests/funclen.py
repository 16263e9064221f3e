#!/usr/bin/python3
"""funclen.py: fail on C functions that are too long or take too many
parameters.

    /usr/bin/python3 tests/funclen.py [--max-lines N] [--max-params N]
                                      [--list] [--self-test] [FILE.c ...]

Reads the files (default: src/*.c next to this script's tests/), finds
every function definition and prints, for each one over a limit,

    src/lists.c:713: lists_rpz_record: 168 lines (limit 100)

then exits 1; with none over, it exits 0 quietly. --list prints every
function instead, longest first, as "lines params file:line name".
--self-test checks the parse on a sample of the constructs that could
fool it (braces in strings, comments and macros, initialisers, function
pointer parameters, attributes) and exits 0 or 1.

The length of a function is the lines of its body, from the line of the
opening brace to that of the closing one, both counted. Parameters are the
declarations between the parentheses: "(void)" is none, and a variadic
"..." is not counted (it is no parameter a caller names).

The parse is a lexer's, not a compiler's, and that is enough for this
tree: comments, string and character literals and preprocessor lines
(with their continuations) are blanked out first, keeping line breaks;
then every '{' at file scope whose head (the text since the previous ';',
'}' or '{' at file scope) ends in a balanced "(...)" opens a function,
named by the identifier before that "(". Initialisers ("= {"), structs,
unions and enums end otherwise and are skipped. Only the Python standard
library is used, so that Debian's /usr/bin/python3 runs it as it comes.
"""

import argparse
import glob
import os
import re
import signal
import sys
import tempfile

MAX_LINES = 100
MAX_PARAMS = 8

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def blank(text):
    """text with comments, literals and preprocessor lines blanked.

    Every character blanked becomes a space, except line breaks, so that
    offsets and line numbers stay those of the file.
    """
    out = list(text)
    i, n = 0, len(text)
    bol = True  # only blanks since the start of the line

    def wipe(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "\n":
            bol = True
            i += 1
            continue
        if bol and c == "#":
            # A directive, continued by backslash-newlines; comments in
            # it are wiped with it.
            j = i
            while j < n and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n and text[j + 1] == "\n":
                    j += 2
                    continue
                if text.startswith("/*", j):
                    end = text.find("*/", j + 2)
                    j = n if end == -1 else end + 2
                    continue
                j += 1
            wipe(i, j)
            i = j
            continue
        if not c.isspace():
            bol = False
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            wipe(i, end)
            i = end
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            wipe(i, end)
            i = end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            wipe(i + 1, min(j, n))
            i = j + 1
            continue
        i += 1
    return "".join(out)


def param_group(head):
    """(start, end) of the balanced "(...)" that ends head, or None."""
    h = head.rstrip()
    if not h.endswith(")"):
        return None
    depth = 0
    for k in range(len(h) - 1, -1, -1):
        if h[k] == ")":
            depth += 1
        elif h[k] == "(":
            depth -= 1
            if depth == 0:
                return k, len(h) - 1
    return None


def count_params(inner):
    """The number of parameters declared in inner (no parentheses)."""
    parts, depth, cur = [], 0, ""
    for c in inner:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    parts = [p.strip() for p in parts]
    if parts == ["void"] or parts == [""]:
        return 0
    return len([p for p in parts if p != "..."])


def functions(path):
    """(name, line, body lines, parameters) of each function in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = blank(f.read())
    found = []
    depth = 0
    head_start = 0
    opened = None  # (name, its line, brace line, params) being read
    line = 1
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
        elif c == "{":
            if depth == 0:
                opened = None
                head = text[head_start:i]
                grp = param_group(head)
                if grp is not None and "=" not in head[:grp[0]]:
                    name = head[:grp[0]].rstrip()
                    m = IDENT.search(name)
                    if m is not None:
                        # Named by the line of its name, counted by the
                        # lines of its body, from this brace on.
                        at = line - head[m.start():].count("\n")
                        opened = (m.group(0), at, line,
                                  count_params(head[grp[0] + 1:grp[1]]))
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if opened is not None:
                    name, at, start, nparams = opened
                    found.append((name, at, line - start + 1, nparams))
                opened = None
                head_start = i + 1
            if depth < 0:
                raise SystemExit("%s:%d: unbalanced '}'" % (path, line))
        elif c == ";" and depth == 0:
            head_start = i + 1
    return found


# The self-test's sample: each function's name says what it should count,
# <name>_<lines>_<params>.
SAMPLE = r"""
#define BLOCK(x) do {                                                  \
        if (x) { return; }                                              \
} while (0)
static const struct { const char *s; int n; } table[] = {
        { "{ not a body }", 1 },
};
struct ops { int (*cb)(void *, int); };
static void __attribute__((format(printf, 1, 2)))
attr_3_1(const char *fmt, ...)
{
        (void)fmt;
}
int
fnptr_4_3(int (*cb)(void *, int), const char *brace, char c)
{
        /* } a comment { */
        return cb(NULL, brace[0] == '{' || c == '}');
}
static void
none_2_0(void)
{
}
int nine_1_9(int a, int b, int c, int d, int e, int f, int g, int h,
    int i) { return a; }
"""


def self_test():
    """Parse SAMPLE and compare with the names' counts; 0 or 1."""
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write(SAMPLE)
        f.flush()
        got = sorted((name, nlines, nparams)
                     for name, _, nlines, nparams in functions(f.name))
    want = []
    for m in re.finditer(r"\b([a-z]+)_(\d+)_(\d+)\(", SAMPLE):
        want.append((m.group(0)[:-1], int(m.group(2)), int(m.group(3))))
    want = sorted(set(want))
    if got != want:
        print("funclen self-test: got %s, want %s" % (got, want))
        return 1
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-lines", type=int, default=MAX_LINES)
    ap.add_argument("--max-params", type=int, default=MAX_PARAMS)
    ap.add_argument("--list", action="store_true",
                    help="print every function, longest first")
    ap.add_argument("--self-test", action="store_true",
                    help="check the parser on a sample, then exit")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    files = a.files or sorted(glob.glob(os.path.join(here, "..", "src",
                                                     "*.c")))
    if not files:
        ap.error("no files")

    rows = []
    for path in files:
        shown = os.path.relpath(path)
        for name, line, nlines, nparams in functions(path):
            rows.append((shown, line, name, nlines, nparams))
    if a.list:
        for shown, line, name, nlines, nparams in sorted(
                rows, key=lambda r: (-r[3], r[0], r[1])):
            print("%4d %2d %s:%d %s" % (nlines, nparams, shown, line, name))
        return 0

    bad = 0
    for shown, line, name, nlines, nparams in rows:
        why = []
        if nlines > a.max_lines:
            why.append("%d lines (limit %d)" % (nlines, a.max_lines))
        if nparams > a.max_params:
            why.append("%d parameters (limit %d)" % (nparams,
                                                     a.max_params))
        if why:
            print("%s:%d: %s: %s" % (shown, line, name, ", ".join(why)))
            bad += 1
    if bad:
        print("%d function%s over the limits" % (bad, "" if bad == 1
                                                  else "s"))
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under "| head"
    sys.exit(main())
