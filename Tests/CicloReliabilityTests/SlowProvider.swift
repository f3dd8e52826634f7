import CicloTestSupport

/// A provider that takes its time: Python's threaded http.server on 127.0.0.1, port 0, keep-alive on. Every request
/// sleeps a random 2 to `argv[2]` milliseconds (so a `kill -9` lands while calls are in flight), then its
/// Idempotency-Key is appended to `calls.log`, one line per call, before the 200 answer goes out: a call the worker
/// never saw answered is still counted, as a real provider would have acted on it.
let slowProviderScript = #"""
    import json, os, random, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    directory = sys.argv[1]
    slowest = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    log = open(os.path.join(directory, "calls.log"), "a", buffering=1)
    lock = threading.Lock()
    count = [0]

    \#(pythonExitWithParent)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = self.headers.get("Idempotency-Key") or "-"
            time.sleep(random.uniform(0.002, slowest / 1000.0))
            with lock:
                count[0] += 1
                number = count[0]
                log.write(key + "\n")
            body = json.dumps({"id": "msg-%d" % number}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#
