import Foundation

/// One request as the HTTP server received it (`requests/NNNN.json`).
public struct ReceivedRequest: Decodable, Sendable {
    public var method: String
    public var path: String
    /// Name and value pairs, in the order they arrived.
    public var headers: [[String]]
    public var body: Data
    public var clientPort: Int
    /// When the server read the request (Unix seconds), for tests of rates.
    public var receivedAt: Double

    /// Every value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> [String] {
        headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }
}

/// A real HTTP/1.1 server for the tests: Python's http.server on 127.0.0.1, port 0, one thread per connection,
/// keep-alive on.
///
/// Every request is written to `requests/NNNN.json` (method, path, headers in order, body in base64, client port,
/// the time it was read).
/// The path chooses the answer: `/ok` 200 with `{"id": "msg-N"}`, `/ok-header` 202 with `X-Message-Id: hdr-N`
/// and no body, `/throttle` 429 with `Retry-After: 7`, `/throttle-date` 429 with an HTTP-date 30 s ahead, `/boom`
/// 500, `/bad` 400 with a JSON error, `/slow` 200 after 5 s.
public let httpServerScript = #"""
    import base64, email.utils, itertools, json, os, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    directory = sys.argv[1]
    requests = os.path.join(directory, "requests")
    os.makedirs(requests, exist_ok=True)
    numbers = itertools.count(1)
    lock = threading.Lock()

    \#(pythonExitWithParent)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                number = next(numbers)
            record = {
                "method": self.command,
                "path": self.path,
                "headers": [[name, value] for name, value in self.headers.items()],
                "body": base64.b64encode(body).decode(),
                "clientPort": self.client_address[1],
                "receivedAt": time.time(),
            }
            path = os.path.join(requests, "%04d.json" % number)
            with open(path + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(path + ".tmp", path)

            if self.path == "/ok":
                self.answer(200, json.dumps({"id": "msg-%d" % number, "status": "queued"}).encode(),
                            [("Content-Type", "application/json")])
            elif self.path == "/ok-header":
                self.answer(202, b"", [("X-Message-Id", "hdr-%d" % number)])
            elif self.path == "/throttle":
                self.answer(429, b"slow down", [("Retry-After", "7")])
            elif self.path == "/throttle-date":
                self.answer(429, b"", [("Retry-After", email.utils.formatdate(time.time() + 30, usegmt=True))])
            elif self.path == "/boom":
                self.answer(500, b"<html><body>Internal Server Error</body></html>", [("Content-Type", "text/html")])
            elif self.path == "/bad":
                self.answer(400, json.dumps({"error": "invalid recipient", "field": "to"}).encode(),
                            [("Content-Type", "application/json")])
            elif self.path == "/slow":
                time.sleep(5)
                self.answer(200, b"{}", [])
            else:
                self.answer(404, b"no such path", [])

        def answer(self, status, body, headers):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#
