"""A real SMTP server on localhost (aiosmtpd, a test extra) that records what it accepted: tests and benchmark."""
from __future__ import annotations

import email
import socket
import ssl
import threading
import time
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink: "MailSink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            time.sleep(self.sink.delay)
        with self.sink.lock:
            self.sink.raw.append(envelope.content)
            self.sink.logins.append(getattr(session, "auth_data", None))
        return "250 Message accepted for delivery"


class MailSink:
    """Start, stop (to play an outage) and read the mails; `refuse` holds addresses answered with 550."""

    def __init__(self, port: int | None = None, tls_context: ssl.SSLContext | None = None,
                 credentials: tuple[str, str] | None = None, delay: float = 0.0):
        self.port = port or free_port()
        self.raw: list[bytes] = []
        self.logins: list = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.delay = delay
        self.tls_context = tls_context
        self.credentials = credentials
        self.controller: Controller | None = None

    def _auth(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and self.credentials is not None and (
            auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        return AuthResult(success=ok, auth_data=auth_data.login.decode() if ok else None)

    def start(self) -> "MailSink":
        kwargs = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.credentials is not None:
            kwargs.update(authenticator=self._auth, auth_require_tls=self.tls_context is not None)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            raw = list(self.raw)
        return [email.message_from_bytes(r, policy=policy.default) for r in raw]

    def count(self) -> int:
        with self.lock:
            return len(self.raw)


def serve(argv: list[str] | None = None) -> None:
    """`python -m scheduler.mailsink PORT FILE`: run a sink in its own process, appending each Message-ID to FILE."""
    import signal
    import sys

    port, path = (argv or sys.argv[1:])[:2]
    out = open(path, "a", buffering=1)

    class _Recorder(_Handler):
        async def handle_DATA(self, server, session, envelope):
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    out.write(line.split(b":", 1)[1].strip().decode() + "\n")
                    break
            return "250 Message accepted for delivery"

    sink = MailSink(port=int(port))
    sink.controller = Controller(_Recorder(sink), hostname="127.0.0.1", port=sink.port)
    sink.controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sink.controller.stop()
    out.close()


if __name__ == "__main__":
    serve()
