#!/usr/bin/env python3
"""The apps compile without LibTorch's headers (apps/CMakeLists.txt gives them no precompiled header for it).

Preprocesses each app with its own compile command from compile_commands.json and names the first app whose
includes reach a torch/ header, and the chain of headers that brings it in.

    apps_include_no_torch.py BUILD_DIR SOURCE_DIR
"""
import json
import pathlib
import shlex
import subprocess
import sys

build, source = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
entries = json.loads((build / "compile_commands.json").read_text())
apps = [e for e in entries if pathlib.Path(e["directory"]).resolve().parent == (build / "apps").resolve()
        or "/apps/CMakeFiles/" in e["file"] or pathlib.Path(e["file"]).resolve().parent == source / "apps"]
if not apps:
    sys.exit("apps_include_no_torch: no app in compile_commands.json")
for entry in apps:
    words = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    if "-o" in words:
        at = words.index("-o")
        del words[at:at + 2]
    result = subprocess.run(words + ["-E", "-H", "-o", "/dev/null"], cwd=entry["directory"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"apps_include_no_torch: {entry['file']} does not compile:\n{result.stderr[-2000:]}")
    chain = []
    for line in result.stderr.splitlines():
        dots, _, header = line.partition(" ")
        if not dots or set(dots) != {"."}:
            continue
        chain = chain[:len(dots) - 1] + [header]
        if "/torch/" in header or header.startswith("torch/"):
            sys.exit(f"apps_include_no_torch: {entry['file']} includes LibTorch: " + " -> ".join(chain))
    print(f"ok {entry['file']}")
print(f"apps: OK (none of {len(apps)} includes a LibTorch header)")
