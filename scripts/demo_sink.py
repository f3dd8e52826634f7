#!/usr/bin/env python3
"""make demo: the providers the workers deliver to, on loopback, keeping everything they receive.

An SMTP server (aiosmtpd) stores every message it accepts as OUTBOX/email/<n>.eml; an HTTP server stands in for
the SMS, push and webhook providers and stores each POST /<channel> body as OUTBOX/<channel>/<n>.json, answering
{"id": ...} the way provider APIs do, so the worker records a provider message id. Both run until SIGTERM.

    scripts/demo_sink.py OUTBOX [--smtp-port 2525] [--http-port 2580]
"""
import argparse
import itertools
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

CHANNELS = ("sms", "push", "webhook")
# The largest body the HTTP side reads: a push payload is at most 4 KB, an SMS or a webhook a few.
MAX_BODY = 64 * 1024


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class Mailbox:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        write_atomically(os.path.join(self.directory, "%06d.eml" % number), envelope.original_content)
        return "250 2.0.0 Ok: queued as DEMO%d" % number


def http_handler(outbox):
    numbers = {channel: itertools.count(1) for channel in CHANNELS}
    lock = threading.Lock()

    class Provider(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            channel = self.path.strip("/")
            length = int(self.headers.get("Content-Length") or 0)
            if channel not in CHANNELS:
                return self.answer(404, {"error": "unknown path %s; use /sms, /push or /webhook" % self.path})
            if length > MAX_BODY:
                return self.answer(413, {"error": "body of %d bytes is over %d" % (length, MAX_BODY)})
            body = self.rfile.read(length)
            with lock:
                number = next(numbers[channel])
            write_atomically(os.path.join(outbox, channel, "%06d.json" % number), body)
            self.answer(200, {"id": "%s-%d" % (channel, number)})

        def answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Provider


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outbox")
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--http-port", type=int, default=2580)
    args = parser.parse_args()
    for channel in ("email",) + CHANNELS:
        os.makedirs(os.path.join(args.outbox, channel), exist_ok=True)
    smtp = Controller(Mailbox(os.path.join(args.outbox, "email")), hostname="127.0.0.1", port=args.smtp_port,
                      data_size_limit=10 * 1024 * 1024)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), http_handler(args.outbox))
    http.daemon_threads = True
    # Every stored message was renamed into place before it was acknowledged, so exiting at once loses nothing; a
    # graceful stop could wait on the workers' kept-alive SMTP connections.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("demo sink: SMTP on 127.0.0.1:%d, HTTP on 127.0.0.1:%d, storing in %s"
          % (args.smtp_port, args.http_port, args.outbox), flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        os._exit(0)


if __name__ == "__main__":
    main()
