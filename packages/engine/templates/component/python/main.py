#!/usr/bin/env python3
"""TEMPLATE_NAME: a Pilotage component in Python, standard library only (urllib.request).

It follows the whole callback contract. Run by hand (no CO_* variables), it prints its greeting
and, on stderr, the calls it would make; the event data then comes from argv[1].
"""
import json
import os
import sys
import urllib.request


def send(url, body=None):
    """POST `body` as JSON to `url` (GET when None); returns the answer, raises unless 2xx."""
    data = None if body is None else json.dumps(body).encode()
    headers = {} if data is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def call(variable, body=None):
    """POST a callback step (CO_TASK_START…); only logged when run by hand."""
    url = os.environ.get(variable)
    if not url:
        print(f"[dev] {variable} {json.dumps(body or {})}", file=sys.stderr)
        return
    send(url, body or {})


def event_data():
    """CO_DATA, else (over 64 KiB) CO_DATA_URL, else argv[1] when run by hand."""
    if "CO_DATA" in os.environ:
        return json.loads(os.environ["CO_DATA"])
    if os.environ.get("CO_DATA_URL"):
        return json.loads(send(os.environ["CO_DATA_URL"]))
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


def main():
    call("CO_COMPONENT_START")
    call("CO_TASK_START")
    exit_code = 0
    try:
        data = event_data()
        name = data.get("name") if isinstance(data.get("name"), str) else "world"
        call("CO_TASK_STATUS", {"message": "composing the greeting", "progress": 0.5})
        greeting = f"Hello, {name}!"
        print(greeting, flush=True)
        call("CO_TASK_RESULT", {"status": "success", "output": {"greeting": greeting}})
    except Exception as err:  # noqa: BLE001 - any error is this task's failure, reported with its reason
        print(f"TEMPLATE_NAME: {err}", file=sys.stderr)
        exit_code = 1
        try:
            call("CO_TASK_RESULT", {"status": "failure", "message": str(err)})
        except Exception as report_err:  # noqa: BLE001 - the engine may be unreachable
            print(f"TEMPLATE_NAME: cannot report the failure: {report_err}", file=sys.stderr)
    call("CO_COMPONENT_STOP")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
