#!/usr/bin/env python3
"""A mock of the Anthropic Messages API for driving the real Claude Code CLI offline.

Listens on 127.0.0.1 (a free port unless --port is given), writes the port to --port-file,
records every request as one JSON line to --record, and answers from a script (--script, JSON):

    {
      "turns": [TURN, ...],                 # the conversation, one TURN per model call
      "by_prompt": {"substring": [TURN, ...]},  # another conversation when the first user
                                            # message contains "substring"
      "side": TURN                          # answer to calls without tools (titles, checks)
    }

The TURN served is chosen by the number of assistant messages already in the request, so a
conversation that is resumed (`--resume`) goes on where it stopped, and concurrent runs (told
apart by their `x-claude-code-session-id` header in the record) never disturb each other.

TURN is one of:
    {"text": "..."}                                   a text answer (end_turn)
    {"tool_use": {"name": "Bash", "input": {...}}, "text": "optional text before it"}
    {"error": {"status": 500, "type": "api_error", "message": "..."}}
                                                      an error answer; "type" defaults by status
                                                      (500 api_error, 529 overloaded_error,
                                                      401 authentication_error, 403
                                                      permission_error, 429 rate_limit_error),
                                                      with `x-should-retry: false` (true
                                                      with "retry": true, for a client
                                                      that is allowed retries)
    {"hang": true}                                    never answer (the client must give up)
and may carry "delay_ms" before the answer starts. Past the end of the turns the answer is the
text "done". Streaming requests get Anthropic's SSE event sequence; others get JSON.

Each record line holds the method, path, headers (lower-case names; an API key or bearer token
that is not a test key, `sk-test-...`, is replaced by "<redacted>"), the JSON body, and which turn
was served ("turn": {"index": N, "kind": "text" | "tool_use" | "error" | "hang" | "side"}).

With --exit-on-stdin-eof the mock exits when its stdin reaches EOF, so a test harness that dies
without cleaning up (SIGKILL) does not leave it running: give it a pipe and keep the write end.

Only the Python standard library is used.
"""

import argparse
import itertools
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)
_lock = threading.Lock()


def new_id(prefix):
    with _lock:
        return f"{prefix}_{next(_ids):024d}"


class Mock:
    def __init__(self, script, record_path):
        self.script = script
        self.record_path = record_path

    def record(self, entry):
        if not self.record_path:
            return
        with _lock, open(self.record_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def turn_for(self, body):
        """The turn to serve and its index in its conversation (None for side calls)."""
        messages = body.get("messages") or []
        if not body.get("tools"):
            return self.script.get("side") or {"text": "ok"}, None
        first = first_user_text(messages)
        turns = self.script.get("turns") or [{"text": "done"}]
        for needle, alternative in (self.script.get("by_prompt") or {}).items():
            if needle in first:
                turns = alternative
                break
        index = sum(1 for m in messages if m.get("role") == "assistant")
        if index < len(turns):
            return turns[index], index
        return {"text": "done"}, index


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def turn_kind(turn, index):
    if index is None:
        return "side"
    for kind in ("error", "hang", "tool_use"):
        if turn.get(kind):
            return kind
    return "text"


def first_user_text(messages):
    for m in messages:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
        return "\n".join(texts)
    return ""


def content_blocks(turn):
    blocks = []
    if turn.get("text") is not None:
        blocks.append({"type": "text", "text": turn["text"]})
    if turn.get("tool_use"):
        tool = turn["tool_use"]
        blocks.append({"type": "tool_use", "id": new_id("toolu"), "name": tool["name"], "input": tool.get("input", {})})
    return blocks


def message(body, blocks):
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-mock"),
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mock = None  # set by main

    def log_message(self, fmt, *args):  # quiet: the record file is the log
        pass

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def send_json(self, status, payload, extra_headers=()):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in extra_headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.mock.record({"method": "GET", "path": self.path, "headers": headers_of(self)})
        self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not mocked"}})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.read_body()
        path = self.path.split("?")[0]
        entry = {"method": "POST", "path": self.path, "headers": headers_of(self), "body": body}
        if not path.endswith("/v1/messages"):
            self.mock.record(entry)
            if path.endswith("/count_tokens"):
                return self.send_json(200, {"input_tokens": 42})
            return self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not mocked"}})
        turn, index = self.mock.turn_for(body)
        entry["turn"] = {"index": index, "kind": turn_kind(turn, index)}
        # Recorded before answering, so a test can see that a request arrived (and hangs).
        self.mock.record(entry)
        if turn.get("delay_ms"):
            time.sleep(turn["delay_ms"] / 1000)
        if turn.get("hang"):
            # Hold the connection open without answering until the client gives up.
            while True:
                time.sleep(3600)
        if turn.get("error"):
            error = turn["error"]
            status = int(error.get("status", 500))
            kind = error.get("type") or ERROR_TYPES.get(status, "api_error")
            return self.send_json(
                status,
                {"type": "error", "error": {"type": kind, "message": error.get("message", "mock error")}},
                [("x-should-retry", "true" if error.get("retry") else "false"), ("request-id", new_id("req"))],
            )
        blocks = content_blocks(turn)
        if not body.get("stream"):
            return self.send_json(200, message(body, blocks))
        self.stream(body, blocks)

    def stream(self, body, blocks):
        msg = message(body, [])
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        msg["stop_reason"] = None
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(name, payload):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        event("message_start", {"type": "message_start", "message": msg})
        event("ping", {"type": "ping"})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
                text = block["text"]
                for start in range(0, max(len(text), 1), 40):
                    event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text[start:start + 40]}})
            else:
                start_block = dict(block, input={})
                event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start_block})
                event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 7}})
        event("message_stop", {"type": "message_stop"})


SECRET_HEADERS = ("x-api-key", "authorization")


def headers_of(handler):
    headers = {}
    for key, value in handler.headers.items():
        key = key.lower()
        if key in SECRET_HEADERS and "sk-test-" not in value:
            value = "<redacted>"
        headers[key] = value
    return headers


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (a cancelled run) is expected, not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def exit_on_stdin_eof():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--script", help="JSON script (see the module docs)")
    parser.add_argument("--record", help="append each request as a JSON line here")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin reaches EOF (the harness died)")
    args = parser.parse_args()
    script = {}
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            script = json.load(f)
    Handler.mock = Mock(script, args.record)
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.exit_on_stdin_eof:
        threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"mock Messages API on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
