"""An HTTPS proxy on 127.0.0.1 that answers every AWS address from the emulator, and nothing else.

Why: code written for AWS does not always honour ``AWS_ENDPOINT_URL``. The SageMaker SDK builds
its STS client with an explicit ``https://sts.<region>.amazonaws.com``; scripts pass
``endpoint_url="https://s3.<region>.amazonaws.com"``; model URLs are
``https://<bucket>.s3.<region>.amazonaws.com/<key>``. With ``HTTPS_PROXY`` pointing here and
``AWS_CA_BUNDLE`` naming this proxy's certificate authority (both printed by
``mmlab emulator env``), such a request reaches the proxy, which:

- for an AWS host (``*.amazonaws.com``, ``*.amazonaws.com.cn``, ``*.api.aws``): completes the TLS
  handshake with a certificate for that host signed by its own CA, and hands each request to the
  emulator's WSGI application in this process (moto dispatches by ``Host`` and signature, exactly
  as it does for direct requests);
- for any other host: answers ``403`` and opens no connection. The proxy never dials out, so a
  process configured this way cannot reach the network through it.

The CA is created once per state folder (``<state-dir>/proxy-ca/``), with a fresh private key
that never leaves that folder (moto's own proxy ships a CA whose key is public). Leaf
certificates are made in memory, per host, on first use.
"""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import socketserver
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: hosts the proxy answers (suffixes); everything else is refused
AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
CA_NAME = "emulator-ca.pem"
_lock = threading.Lock()


def is_aws_host(host: str) -> bool:
    """Whether the proxy serves ``host`` (an AWS service address)."""
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in AWS_SUFFIXES)


class CertificateAuthority:
    """A private CA for the proxy: ``<folder>/emulator-ca.pem`` (+ its key), leaf certs on demand.

    Args:
        folder: where the CA certificate and key live (created on first use).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.cert_path = self.folder / CA_NAME
        self.key_path = self.folder / "emulator-ca.key"
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._leaf_key = None
        self._load_or_create()

    def _load_or_create(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        if self.cert_path.exists() and self.key_path.exists():
            self._ca_key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            self._ca_cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        else:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mmlab emulator local CA")])
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        key_cert_sign=True,
                        crl_sign=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .sign(key, hashes.SHA256())
            )
            self.key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            self.key_path.chmod(0o600)
            self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            self._ca_key, self._ca_cert = key, cert
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server TLS context with a certificate for ``host`` (and ``*.`` its parent)."""
        with _lock:
            found = self._contexts.get(host)
            if found is None:
                found = self._contexts[host] = self._make_context(host)
            return found

    def _make_context(self, host: str) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        names = [x509.DNSName(host)]
        if host.count(".") >= 2:
            names.append(x509.DNSName("*." + host.split(".", 1)[1]))
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self._ca_cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM) + self._ca_cert.public_bytes(
            serialization.Encoding.PEM
        )
        key_pem = self._leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain needs files: a private temporary folder, removed at once
        with tempfile.TemporaryDirectory(prefix="mmlab-leaf-") as tmp:
            cert_file, key_file = Path(tmp) / "leaf.pem", Path(tmp) / "leaf.key"
            cert_file.write_bytes(pem)
            key_file.write_bytes(key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def setup(self) -> None:
        # headers and body go out as separate small writes: without TCP_NODELAY, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _refuse(self, host: str) -> None:
        body = (
            f"mmlab emulator proxy: {host} is not an AWS address; this proxy answers AWS "
            "addresses from the local emulator and never connects anywhere else\n"
        ).encode()
        self.send_response(403, "Forbidden")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server naming
        host = self.path.rsplit(":", 1)[0].strip("[]")
        self.server.record(host)
        if not is_aws_host(host):
            self._refuse(host)
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        context = self.server.ca.context_for(host)
        try:
            self.connection = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = self.connection.makefile("wb", self.wbufsize)
        self._tls_host = host
        self.close_connection = False

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self) -> None:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        tls_host = getattr(self, "_tls_host", None)
        if tls_host is not None:
            scheme, host_header, target = "https", self.headers.get("Host", tls_host), self.path
        else:
            parts = urlsplit(self.path)
            if parts.scheme != "http" or not parts.hostname:
                self._refuse(self.path)
                return
            scheme, host_header = "http", parts.netloc
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            self.server.record(parts.hostname)
            if not is_aws_host(parts.hostname):
                self._refuse(parts.hostname)
                return
        body = self._body()
        path, _, query = target.partition("?")
        headers = [
            (k, v) for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")
        ]
        headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        headers.append(("Content-Length", str(len(body))))
        builder = EnvironBuilder(
            path=path or "/",
            query_string=query,
            method=self.command,
            base_url=f"{scheme}://{host_header}",
            headers=headers,
            data=body,
        )
        environ = builder.get_environ()
        environ["RAW_URI"] = target
        environ["REQUEST_URI"] = target
        app_iter, status, response_headers = run_wsgi_app(self.server.app, environ)
        try:
            payload = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in response_headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward


class _ProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Any, ca: CertificateAuthority) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.ca = ca
        #: every host a client asked for, in order (tests prove what was refused)
        self.hosts: list[str] = []

    def record(self, host: str) -> None:
        with _lock:
            self.hosts.append(host)
            del self.hosts[:-1000]


class Proxy:
    """The proxy of this emulator process (see the module docstring).

    Args:
        ca_folder: the CA's folder.
        port: the port on 127.0.0.1 (0: a free one).
    """

    def __init__(self, ca_folder: Path, port: int = 0) -> None:
        self.ca_folder = Path(ca_folder)
        self.requested_port = port
        self._server: _ProxyServer | None = None

    @property
    def url(self) -> str | None:
        """``http://127.0.0.1:PORT`` once started."""
        return f"http://127.0.0.1:{self._server.server_address[1]}" if self._server else None

    @property
    def ca_bundle(self) -> str:
        """The CA certificate file clients trust (``AWS_CA_BUNDLE``)."""
        return str(self.ca_folder / CA_NAME)

    @property
    def hosts(self) -> list[str]:
        """The hosts clients asked the proxy for."""
        return list(self._server.hosts) if self._server else []

    def start(self) -> Proxy:
        """Bind 127.0.0.1 and serve in a daemon thread (idempotent)."""
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        ca = CertificateAuthority(self.ca_folder)
        app = DomainDispatcherApplication(create_backend_app)
        self._server = _ProxyServer(("127.0.0.1", self.requested_port), app, ca)
        threading.Thread(
            target=self._server.serve_forever, name="mmlab-emulator-proxy", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


_PROXY: Proxy | None = None


def current() -> Proxy | None:
    """The running proxy of this process, if any."""
    return _PROXY


def install() -> None:
    """Start the proxy (CA in ``<state-dir>/proxy-ca``; port ``$MMLAB_EMULATOR_PROXY_PORT`` or free).

    A proxy that cannot start (e.g. the port is taken) is reported on stderr and left out: the
    emulator still serves ``AWS_ENDPOINT_URL`` clients.
    """
    global _PROXY
    import os
    import sys

    from mmutils.emulator.state import STATE

    if _PROXY is not None:
        return
    try:
        port = int(os.environ.get("MMLAB_EMULATOR_PROXY_PORT") or 0)
        _PROXY = Proxy(STATE.state_dir / "proxy-ca", port).start()
    except (OSError, ValueError) as exc:
        print(f"mmlab emulator: the HTTPS proxy did not start: {exc}", file=sys.stderr)
        _PROXY = None


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
