"""Drive a program in a pseudo-terminal, for tests (see pty.ts).

Reads a JSON spec on stdin: {"argv": [...], "env": {...}, "cols": 100, "rows": 30,
"steps": [{"send": "text", "expect": "regex", "timeout": 20}], "timeout": 60}. Each step writes
`send` (if any) to the terminal, then reads until `expect` (if any) matches everything read so
far. After the last step it reads until the program exits (or `timeout` passes: then it is
killed). Prints one JSON line: {"output": <base64 of every byte the program wrote>, "code": N,
"matched": [true|false per step]}.
"""
import base64
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

spec = json.load(sys.stdin)
pid, fd = pty.fork()
if pid == 0:
    env = dict(spec.get("env", {}))
    os.execvpe(spec["argv"][0], spec["argv"], env)

fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", spec.get("rows", 30), spec.get("cols", 100), 0, 0))
output = bytearray()


def read_until(pattern, deadline):
    while True:
        if pattern is not None and re.search(pattern, output.decode("utf-8", "replace")):
            return True
        left = deadline - time.time()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return pattern is None
            if not chunk:
                return pattern is None
            output.extend(chunk)


matched = []
for step in spec.get("steps", []):
    if "send" in step:
        os.write(fd, step["send"].encode())
    matched.append(read_until(step.get("expect"), time.time() + step.get("timeout", 20)))

read_until(None, time.time() + spec.get("timeout", 60))
code = None
for _ in range(50):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        break
    time.sleep(0.1)
if code is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    code = -9
print(json.dumps({"output": base64.b64encode(bytes(output)).decode(), "code": code, "matched": matched}))
