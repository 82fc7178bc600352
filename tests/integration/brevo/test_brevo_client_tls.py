"""The client's transport: a client of the http:// sandbox never loads CA certificates,
while https is verified exactly as httpx verifies by default (and proxies still apply).

The https server is the sandbox behind a TLS relay on loopback, with a self-signed
certificate that is trusted only when ``SSL_CERT_FILE`` (which httpx honours) names it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.tls import self_signed

from segport.brevo import BrevoClient, NotFoundError, TransportError
from segport.brevo.sandbox import SandboxServer

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class TlsRelay:
    """Accepts TLS on loopback and passes the decrypted bytes to ``target_port``."""

    def __init__(self, target_port: int, cert_file: Path, key_file: Path) -> None:
        self._target_port = target_port
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_file, key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            try:
                tls = self._context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):  # the client did not trust the certificate
                raw.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target_port))
            threading.Thread(target=_pump, args=(tls, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, tls), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def relay(sandbox: SandboxServer, tmp_path: Path) -> Iterator[tuple[TlsRelay, Path]]:
    cert_file, key_file = self_signed(tmp_path)
    server = TlsRelay(sandbox.port, cert_file, key_file)
    yield server, cert_file
    server.close()


def test_http_client_never_loads_ca_certificates(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # httpx loads the CA bundle named by SSL_CERT_FILE whenever it builds a verifying
    # context; a missing file makes that fail, so any CA loading would show.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    with BrevoClient(sandbox.api_key, sandbox.base_url) as client:
        assert client.get_account().email
    with pytest.raises(OSError):  # the control: an https client does load it
        BrevoClient(sandbox.api_key, "https://127.0.0.1:9/v3")


def test_https_client_verifies_the_certificate(
    sandbox: SandboxServer, relay: tuple[TlsRelay, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = relay
    url = f"https://127.0.0.1:{server.port}/v3"
    with (
        BrevoClient(sandbox.api_key, url, max_retries=0) as client,
        pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get_account()

    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # httpx's default honours it
    with BrevoClient(sandbox.api_key, url, max_retries=0) as client:
        assert client.get_account().email


def test_http_client_verifies_https_downloads(
    sandbox: SandboxServer, relay: tuple[TlsRelay, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = relay
    report = f"https://127.0.0.1:{server.port}/reports/999/failures.csv"
    with (
        BrevoClient(sandbox.api_key, sandbox.base_url, max_retries=0) as client,
        pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.download_report(report)

    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    with (
        BrevoClient(sandbox.api_key, sandbox.base_url, max_retries=0) as client,
        pytest.raises(NotFoundError),  # it reached the sandbox, over verified TLS
    ):
        client.download_report(report)


def test_http_client_still_uses_proxies_from_the_environment(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = socket.create_server(("127.0.0.1", 0))
    proxy.settimeout(10)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
    seen: list[bytes] = []

    def answer_badly() -> None:
        conn, _ = proxy.accept()
        with conn:
            seen.append(conn.recv(65536))

    thread = threading.Thread(target=answer_badly, daemon=True)
    thread.start()
    try:
        with (
            BrevoClient(sandbox.api_key, sandbox.base_url, max_retries=0) as client,
            pytest.raises(TransportError),
        ):
            client.get_account()
    finally:
        thread.join(10)
        proxy.close()
    assert seen and seen[0].startswith(b"GET " + sandbox.base_url.encode() + b"/account ")
