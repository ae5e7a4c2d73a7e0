#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a systemd service unit's commands the way systemd would, without systemd.

The test machine has no systemd running (a container), but the units in
contrib/systemd are shell command lines plus settings; what can break is the
commands. This reads a unit as systemd does (continuation lines, Environment=,
then EnvironmentFile= which wins, $$ and %% unescaped, %i the instance,
UMask=, StateDirectory=), maps installed paths to the test's folders, and runs
ExecStartPre=, ExecStart= and ExecStartPost= in order in a minimal environment,
stopping at the first failure unless the line starts with '-'.

  unitrun.py UNIT [--instance I] [--map FROM=TO]... [--keep-env NAME]...

Exits with the status of the failing command (or 0). A single '$' outside '$$'
in a command is refused: systemd would expand it itself, differently from sh.
"""
import os
import re
import shlex
import subprocess
import sys


def read_unit(path):
    lines, cur = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if cur == "" and (line.lstrip().startswith("#") or line.lstrip().startswith(";")):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            lines.append(cur)
            cur = ""
    section, out = None, []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1]
            continue
        if "=" not in s:
            sys.exit(f"unitrun: {path}: not a setting: {s}")
        k, v = s.split("=", 1)
        out.append((section, k.strip(), v.strip()))
    return out


def env_file(path, env):
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            s = raw.strip()
            if not s or s[0] in "#;":
                continue
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s)
            if not m:
                sys.exit(f"unitrun: {path}:{n}: not NAME=VALUE")
            v = m.group(2)
            env[m.group(1)] = " ".join(shlex.split(v)) if v else ""


def main():
    args = sys.argv[1:]
    unit, instance, maps, keep = None, "", [], ["PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"]
    while args:
        a = args.pop(0)
        if a == "--instance":
            instance = args.pop(0)
        elif a == "--map":
            f, t = args.pop(0).split("=", 1)
            maps.append((f, t))
        elif a == "--keep-env":
            keep.append(args.pop(0))
        else:
            unit = a
    if not unit:
        sys.exit(__doc__)

    def mapped(s):
        for f, t in maps:
            s = s.replace(f, t)
        return s

    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    settings = read_unit(unit)
    svc = [(k, v) for sec, k, v in settings if sec == "Service"]
    for k, v in svc:
        if k == "Environment":
            for word in shlex.split(v):
                n, val = word.split("=", 1)
                env[n] = mapped(val)
    for k, v in svc:
        if k == "EnvironmentFile":
            p = mapped(v.lstrip("-"))
            if os.path.exists(p):
                env_file(p, env)
            elif not v.startswith("-"):
                sys.exit(f"unitrun: EnvironmentFile {p}: missing")
    umask = 0o022
    for k, v in svc:
        if k == "UMask":
            umask = int(v, 8)
        elif k == "StateDirectory":
            for d in v.split():
                os.makedirs(mapped("/var/lib/" + d), exist_ok=True)
    os.umask(umask)
    for k, v in svc:
        if k not in ("ExecStartPre", "ExecStart", "ExecStartPost"):
            continue
        ignore = v.startswith("-")
        v = v.lstrip("-@+!")
        if re.search(r"(?<!\$)\$(?!\$)", v.replace("$$", "")):
            sys.exit(f"unitrun: {unit}: {k}= has a single '$' (write $$ for sh): {v[:80]}")
        argv = [mapped(w).replace("$$", "$").replace("%i", instance).replace("%%", "%")
                for w in shlex.split(v)]
        rc = subprocess.call(argv, env=env)
        print(f"unitrun: {k}= exited {rc}", file=sys.stderr)
        if rc != 0 and not ignore:
            sys.exit(rc)
    sys.exit(0)


if __name__ == "__main__":
    main()
