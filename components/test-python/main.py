#!/usr/bin/env python3
"""test-python: the component contract with the Python standard library alone.

Reads the artifact named by the input `artifact` (relative to CO_WORKSPACE), checks its sha256
against the input `sha256`, then runs a few pretend test cases on its content. Reports
{passed, failed}; any failed case (the input `shouldFail` forces one) fails the task.
Run by hand (no CO_* callback variables) it takes the event data from argv[1] and prints the calls.
"""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request

RETRIES = 3


def call(step, body=None):
    """POST `body` to the callback URL of `step` (GET when None), retrying network errors."""
    url = os.environ.get("CO_" + step)
    if not url:
        print(f"[pilotage dev] {step} {json.dumps(body) if body else ''}".rstrip(), file=sys.stderr)
        return None
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for attempt in range(RETRIES + 1):
        try:
            request = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as err:
            # 4xx: the engine refused the call; repeating it will not help.
            if err.code < 500 or attempt == RETRIES:
                reason = err.read().decode(errors="replace")
                raise RuntimeError(f"{step} refused with HTTP {err.code}: {reason}") from err
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            if attempt == RETRIES:
                raise RuntimeError(f"{step}: cannot reach the engine: {err}") from err
        time.sleep(0.1 * 2**attempt)
    return None


def event_data():
    if "CO_DATA" in os.environ:
        return json.loads(os.environ["CO_DATA"])
    if os.environ.get("CO_DATA_URL"):
        return json.loads(call("DATA_URL"))
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


def run_tests(data, workspace):
    """Returns (passed, failed, failure messages)."""
    path = os.path.join(workspace, data["artifact"])
    with open(path, "rb") as f:
        content = f.read()
    actual = hashlib.sha256(content).hexdigest()
    if actual != data["sha256"]:
        raise RuntimeError(f"{data['artifact']}: sha256 is {actual}, expected {data['sha256']}")
    text = content.decode("utf-8", errors="replace")
    cases = [
        ("artifact is not empty", len(content) > 0),
        ("artifact is text", "\x00" not in text),
        ("artifact names its source", text.startswith("pretend build of ")),
        ("every build step succeeded", all(line.endswith(": ok") for line in text.splitlines()[1:])),
        ("artifact ends with a newline", text.endswith("\n")),
    ]
    if data.get("shouldFail", False):
        cases.append(("the case that shouldFail breaks", False))
    failures = [name for name, ok in cases if not ok]
    for name, ok in cases:
        print(f"{'ok    ' if ok else 'FAILED'} {name}")
    return len(cases) - len(failures), len(failures), failures


def main():
    try:
        call("COMPONENT_START", {})
    except RuntimeError as err:
        # The engine does not know or want us: there is no one to report to.
        print(f"test-python: {err}", file=sys.stderr)
        return 1
    started = False
    try:
        data = event_data()
        call("TASK_START", {})
        started = True
        call("TASK_STATUS", {"message": f"testing {data.get('artifact')}", "progress": 0})
        passed, failed, failures = run_tests(data, os.environ.get("CO_WORKSPACE", os.getcwd()))
        output = {"passed": passed, "failed": failed}
        if failed:
            result = {"status": "failure", "output": output, "message": f"{failed} failed: {', '.join(failures)}"}
        else:
            result = {"status": "success", "output": output}
    except Exception as err:  # noqa: BLE001 - any error is this task's failure, reported with its reason
        print(f"test-python: {err}", file=sys.stderr)
        if not started:
            call("TASK_START", {})
        result = {"status": "failure", "message": str(err)}
    exit_code = 0 if result["status"] == "success" else 1
    for step, body in (("TASK_RESULT", result), ("COMPONENT_STOP", {})):
        try:
            call(step, body)
        except RuntimeError as err:
            print(f"test-python: {err}", file=sys.stderr)
            exit_code = 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
