"""schemathesis hooks for Tasktray's API: keep every request inside the run's temp folder, keep
the fake agent from running scripts, and bound the long poll. They change what the fuzzer
sends, never what the server accepts or what the spec says.

`before_call` runs before every request of every phase (examples, coverage, fuzzing, stateful),
so nothing generated reaches the server unchanged where it matters. The server's facts come
from `server.json`, written by `tasktray-schema-server` (its path in `TASKTRAY_SCHEMA_SERVER`).
"""

from __future__ import annotations

import json
import os
import zlib

import schemathesis

with open(os.environ["TASKTRAY_SCHEMA_SERVER"], encoding="utf-8") as f:
    SERVER = json.load(f)

# The longest long poll: `GET /v1/tasks/{id}/wait` without `timeout_ms` waits until the task
# ends, which a task waiting for a message never does, and a generated `timeout_ms` can be
# days. Valid waits are capped to this, so every wait answers (200, as the spec says) quickly.
WAIT_CAP_MS = 300

U64_MAX = 2**64 - 1


@schemathesis.hook
def before_call(context, case, kwargs):
    label = (case.method.upper(), case.path)
    if label[0] == "POST":
        no_scripts(case)
    if label == ("POST", "/v1/tasks"):
        contain_project(case)
    elif label == ("PUT", "/v1/settings"):
        contain_agent(case)
    elif label == ("GET", "/v1/tasks/{id}/wait"):
        cap_wait(case)


def no_scripts(case):
    """The fake agent runs a prompt or message that starts with `fake:` as a script (which may
    run shell commands): such a string, generated or taken from a response (the seeded tasks'
    prompts are scripts), is sent as text the agent echoes instead."""
    body = case.body
    if isinstance(body, dict):
        for key in ("prompt", "message"):
            text = body.get(key)
            if isinstance(text, str) and text.lstrip().startswith("fake:"):
                body[key] = "echo " + text


def contain_project(case):
    """A task runs in the folder it names and leaves its transcript there: every string
    `project_dir` becomes one of the run's project folders (picked by the generated string, so
    tasks meet each other in a busy project too). Other types stay, for the server to refuse."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("project_dir"), str):
        projects = SERVER["projects"]
        pick = zlib.crc32(body["project_dir"].encode("utf-8", "surrogatepass"))
        body["project_dir"] = projects[pick % len(projects)]


def contain_agent(case):
    """The settings name the agent binary that every later task runs: an absolute `agent_path`
    (any program on this machine, or none) becomes the fake agent. A relative one stays: the
    server refuses it (400)."""
    body = case.body
    if isinstance(body, dict):
        agent = body.get("agent_path")
        if isinstance(agent, str) and agent.strip().startswith("/"):
            body["agent_path"] = SERVER["agent"]


def cap_wait(case):
    """A valid `timeout_ms` (an integer the server takes, as a number or digits) above the cap,
    or none, becomes the cap. Invalid ones stay, for the server to refuse (400)."""
    query = case.query if isinstance(case.query, dict) else {}
    value = query.get("timeout_ms")
    if value is None or (as_u64(value) or 0) > WAIT_CAP_MS:
        query["timeout_ms"] = WAIT_CAP_MS
    case.query = query


def as_u64(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 <= number <= U64_MAX else None
