"""A throwaway certificate authority and a loopback server certificate, written as PEM files.

The official Customer.io client speaks HTTPS only, so the sink needs a certificate the client
can verify; the same files let the other runners use TLS too (``--transport tls``).
"""

from __future__ import annotations

from pathlib import Path

import trustme

from sink import TlsFiles


def make_tls_files(directory: Path) -> TlsFiles:
    """Create a CA and a certificate for 127.0.0.1 and localhost under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(
        ca_path=directory / "ca.pem",
        cert_chain_path=directory / "server-chain.pem",
        key_path=directory / "server-key.pem",
    )
    authority.cert_pem.write_to_path(str(files.ca_path))
    server.private_key_pem.write_to_path(str(files.key_path))
    with files.cert_chain_path.open("wb") as chain:
        for blob in server.cert_chain_pems:
            chain.write(blob.bytes())
    return files
