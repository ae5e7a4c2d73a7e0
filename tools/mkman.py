#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes one man page: Markdown turned into roff by cmark-gfm -t man, under a
.TH line and a NAME section that whatis(1) and lexgrog(1) can read.

usage: mkman.py --cmark CMARK --envdrift BIN --name NAME --section N --out FILE
                (--markdown FILE | --command CMD) [--extra FILE]

--markdown FILE  a page of docs/ ("# envdrift-profile(5) — what it is" first):
                 its title gives NAME; a "## NAME" section of its own opens
                 DESCRIPTION instead.
--command CMD    the page of 'envdrift CMD': its sections come from the same
                 option table as its --help ('envdrift CMD --help-markdown'),
                 NAME from the summary 'envdrift --help' prints for it.
--extra FILE     Markdown appended (EXAMPLES ...). A command's page ends with
                 SEE ALSO envdrift(1). A line "@COMMANDS@" becomes the list of
                 commands.
Headings go up one level (## is a section, ### a subsection). SOURCE_DATE_EPOCH,
when set, dates the page.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys


def commands(envdrift):
    """(name, summary) of each command, as 'envdrift --help' lists them."""
    out = subprocess.run([envdrift, "--help"], check=True, capture_output=True, text=True).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [tuple(line.split(None, 1)) for line in block.splitlines() if line.strip()]


def promote(md):
    """Every heading up one level, outside code fences; the first-level title is dropped."""
    out, fence = [], False
    for line in md.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#{2,6} ", line):
            line = line[1:]
        elif not fence and line.startswith("# "):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def cells(row):
    """The cells of a Markdown table row: '|' splits, except escaped or inside `code`."""
    out, cur, code, i = [], "", False, 0
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    while i < len(row):
        c = row[i]
        if c == "\\" and i + 1 < len(row):
            cur += row[i:i + 2]
            i += 2
            continue
        if c == "`":
            code = not code
        if c == "|" and not code:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur.strip())
    return out


def untable(md):
    """
    Each table as a list of terms, as man pages show them at any width: the
    first cell of a row, then the others indented, each named by its column
    when there are more than two (tbl cannot wrap a wide table to 80 columns).
    """
    out, fence, lines, i = [], False, md.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fence = not fence
        if (not fence and line.startswith("|") and i + 1 < len(lines)
                and re.match(r"^\|?\s*:?-{3,}", lines[i + 1])):
            head = cells(line)
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = cells(lines[i])
                out += ["", row[0], ""]
                for name, cell in zip(head[1:], row[1:]):
                    if cell:
                        out += [f"> *{name}*: {cell}" if len(head) > 2 else f"> {cell}", ">"]
                i += 1
            out.append("")
            continue
        out.append(line)
        i += 1
    return "\n".join(out) + "\n"


def split_name(md):
    """(the text of a '## NAME' section, the Markdown without it)."""
    m = re.search(r"^## NAME\n(.*?)(?=^## )", md, re.S | re.M)
    if not m:
        return "", md
    return m.group(1).strip(), md[:m.start()] + md[m.end():]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmark", required=True)
    ap.add_argument("--envdrift", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--section", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--markdown")
    ap.add_argument("--command")
    ap.add_argument("--extra")
    a = ap.parse_args()

    cmds = commands(a.envdrift)
    if a.command:
        summary = dict(cmds).get(a.command)
        if summary is None:
            sys.exit(f"mkman: '{a.command}' is not a command of 'envdrift --help'")
        md = subprocess.run([a.envdrift, a.command, "--help-markdown"], check=True,
                            capture_output=True, text=True).stdout
    else:
        with open(a.markdown, encoding="utf-8") as f:
            md = f.read()
        title = md.splitlines()[0]
        m = re.match(r"# \S+\(\d\)\s*(?:—|:|-)\s*(.*)", title)
        if not m:
            sys.exit(f"mkman: {a.markdown}:1: expected '# NAME(N) — what it is', got '{title}'")
        summary = m.group(1)
        own, md = split_name(md)
        if own:
            md = re.sub(r"^## DESCRIPTION\n", "## DESCRIPTION\n\n" + own + "\n\n", md, 1, re.M)
    if a.extra:
        with open(a.extra, encoding="utf-8") as f:
            md += "\n" + f.read()
    if a.command:
        md += "\n## SEE ALSO\n\n**envdrift**(1)\n"
    listing = "\n".join(f"**envdrift\\-{n}**(1)\n\n> {s}\n" for n, s in cmds)
    md = md.replace("@COMMANDS@", listing)

    roff = subprocess.run([a.cmark, "-e", "table", "-t", "man", "--width", "0"], input=untable(promote(md)),
                          check=True, capture_output=True, text=True).stdout
    date = ""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        date = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]),
                                               datetime.timezone.utc).strftime("%Y-%m-%d")
    version = subprocess.run([a.envdrift, "--version"], check=True, capture_output=True,
                             text=True).stdout.split()[1]
    desc = summary.replace("\\", "\\\\").replace("-", "\\-")
    head = ""
    if ".TS" in roff:
        head = "'\\\" t\n"  # tables: man(1) runs tbl
    name = a.name.replace("-", "\\-")
    head += (f'.TH "{a.name.upper()}" "{a.section}" "{date}" "envdrift {version}" '
             f'"envdrift manual"\n.nh\n.ad l\n.SH NAME\n{name} \\- {desc}\n')
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(head + roff)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
