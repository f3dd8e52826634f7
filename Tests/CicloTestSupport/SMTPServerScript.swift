import Foundation

/// One message as the SMTP server received it (`messages/NNNN.json`).
public struct ReceivedMail: Decodable, Sendable {
    public var mailFrom: String
    public var recipients: [String]
    /// The message as it arrived after DATA, dot-unstuffed.
    public var data: Data
    public var clientPort: Int
    public var authenticated: Bool
    public var tls: Bool
}

/// A real SMTP server for the tests: aiosmtpd on 127.0.0.1, port 0.
///
/// Arguments: the records directory, then `--reject ADDR` (550 at RCPT), `--defer ADDR` (451 at RCPT),
/// `--auth USER:PASS` (AUTH required, allowed without TLS), `--tls` (a self-signed certificate for 127.0.0.1 in
/// `cert.pem`, offered with STARTTLS), `--silent` (accept connections but never greet), `--idle-timeout SECONDS`
/// (say 421 and close a connection idle that long; aiosmtpd's default is 300). Every accepted message is
/// written to `messages/NNNN.json` (envelope, raw data in base64, client port, whether AUTH and TLS were used);
/// every connection to `connections/NNNN`.
public let smtpServerScript = #"""
    import argparse, asyncio, base64, itertools, json, os, re, ssl, subprocess, sys, threading
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--reject")
    parser.add_argument("--defer")
    parser.add_argument("--auth")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--idle-timeout", type=float, default=300)
    args = parser.parse_args()
    messages = os.path.join(args.directory, "messages")
    connections = os.path.join(args.directory, "connections")
    os.makedirs(messages, exist_ok=True)
    os.makedirs(connections, exist_ok=True)
    message_numbers = itertools.count(1)
    connection_numbers = itertools.count(1)

    def write_atomically(path, text):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)

    \#(pythonExitWithParent)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
                return "553 5.1.3 <%s>: Recipient address rejected: malformed address" % address
            if address == args.reject:
                return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
            if address == args.defer:
                return "451 4.3.0 <%s>: Temporary lookup failure, try again later" % address
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"

        async def handle_DATA(self, server, session, envelope):
            number = next(message_numbers)
            record = {
                "mailFrom": envelope.mail_from,
                "recipients": envelope.rcpt_tos,
                "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
                "clientPort": session.peer[1],
                "authenticated": bool(session.authenticated),
                "tls": session.ssl is not None,
            }
            write_atomically(os.path.join(messages, "%04d.json" % number), json.dumps(record))
            return "250 2.0.0 Ok: queued as Q%d" % number

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            write_atomically(os.path.join(connections, "%04d" % next(connection_numbers)), "")
            super().connection_made(transport)

    class Silent(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport  # keep it open, say nothing

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = args.auth.split(":", 1)
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
            and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    def make_protocol():
        if args.silent:
            return Silent()
        options = {}
        if args.auth:
            options.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        if args.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(os.path.join(args.directory, "cert.pem"), os.path.join(args.directory, "key.pem"))
            options.update(tls_context=context)
        return CountingSMTP(Handler(), hostname="relay.test", timeout=args.idle_timeout, **options)

    async def main():
        if args.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-keyout", os.path.join(args.directory, "key.pem"),
                            "-out", os.path.join(args.directory, "cert.pem"),
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
        server = await asyncio.get_running_loop().create_server(make_protocol, host="127.0.0.1", port=0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """#
