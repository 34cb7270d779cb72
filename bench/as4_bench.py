"""AS4 library cost against the cryptographic floor, and peak memory while parsing a large message.

Run: ``python bench/as4_bench.py [--quick]``. For each payload size it times
- build: ``build_user_message`` (gzip, sign, encrypt, MIME) and
- parse: ``read_user_message`` (MIME, XML, key unwrap, signature + chain check, decrypt, digest, gunzip),
and the floor: the same RSA, AES-GCM, SHA-256 and gzip operations called directly on the same bytes.
The ratio ours/floor is what the library adds. Targets: <= 3 at 20 KB, <= 1.5 at 1 MB and 20 MB;
peak memory parsing a 100 MB payload <= 3x the payload.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accesspoint.as4 import AnchorTrust, Submission, build_user_message, read_user_message
from accesspoint.as4.payloadcrypto import GZIP_LEVEL
from accesspoint.pki import Credentials, create_dev_pki

DOC_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
SUBMISSION = Submission(
    "POP000001",
    "POP000002",
    "0192:810418052",
    "0192:991825827",
    DOC_TYPE,
    "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
)
MB = 1024 * 1024


def invoice_like(size: int, seed: int = 1) -> bytes:
    """XML with varying amounts and names: compresses roughly like real invoices (about 10:1)."""
    rnd = random.Random(seed)
    words = [rnd.randbytes(4).hex() for _ in range(500)]
    lines = []
    for i in range(4000):
        lines.append(
            f'<cac:InvoiceLine><cbc:ID>{i}</cbc:ID><cbc:Quantity unitCode="C62">{rnd.randint(1, 999)}'
            "</cbc:Quantity>"
            f'<cbc:Amount currencyID="NOK">{rnd.random() * 10000:.2f}</cbc:Amount><cac:Item><cbc:Name>'
            f"{rnd.choice(words)} {rnd.choice(words)}</cbc:Name></cac:Item></cac:InvoiceLine>\n".encode()
        )
    block = b"".join(lines)
    body = (block * (size // len(block) + 1))[: max(0, size - 60)]
    return b"<StandardBusinessDocument>" + body + b"</StandardBusinessDocument>"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs after a warm-up, with the cyclic GC paused (as timeit does)."""
    fn()
    gc.collect()
    gc.disable()
    try:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return statistics.median(runs)


def floor_build(payload: bytes, signer: Credentials, recipient: rsa.RSAPublicKey) -> None:
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    compressed = comp.compress(payload) + comp.flush()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(compressed)
    digest.finalize()
    signer.private_key.sign(b"x" * 900, padding.PKCS1v15(), hashes.SHA256())  # SignedInfo-sized
    key = os.urandom(16)
    iv = os.urandom(12)
    AESGCM(key).encrypt(iv, compressed, None)
    recipient.encrypt(
        key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )


def floor_parse_inputs(payload: bytes, signer: Credentials, receiver: Credentials) -> tuple[bytes, ...]:
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    compressed = comp.compress(payload) + comp.flush()
    key, iv = os.urandom(16), os.urandom(12)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = receiver.certificate.public_key().encrypt(key, oaep)  # type: ignore[union-attr]
    sealed = AESGCM(key).encrypt(iv, compressed, None)
    signature = signer.private_key.sign(b"x" * 900, padding.PKCS1v15(), hashes.SHA256())
    return wrapped, iv, sealed, signature


def floor_parse(inputs: tuple[bytes, ...], signer: Credentials, receiver: Credentials) -> None:
    wrapped, iv, sealed, signature = inputs
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    key = receiver.private_key.decrypt(wrapped, oaep)
    public = signer.certificate.public_key()
    public.verify(signature, b"x" * 900, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
    compressed = AESGCM(key).decrypt(iv, sealed, None)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(compressed)
    digest.finalize()
    zlib.decompressobj(31).decompress(compressed)


def run(quick: bool) -> None:
    pki = create_dev_pki(("POP000001", "POP000002"))
    sender, receiver = pki.ap("POP000001"), pki.ap("POP000002")
    trust = AnchorTrust(pki.anchors, pki.intermediates)
    public = receiver.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    sizes = [("20 KB", 20 * 1024, 300), ("1 MB", MB, 60), ("20 MB", 20 * MB, 5)]
    if quick:
        sizes = [("20 KB", 20 * 1024, 100), ("1 MB", MB, 20)]
    print(
        f"{'payload':>8} | {'build ms':>9} {'floor ms':>9} {'ratio':>6} | "
        f"{'parse ms':>9} {'floor ms':>9} {'ratio':>6}"
    )
    print("-" * 72)
    for label, size, repeat in sizes:
        payload = invoice_like(size)
        message = build_user_message(
            SUBMISSION, payload, signer=sender, receiver_certificate=receiver.certificate
        )
        got = read_user_message(message.content_type, message.body, keys=[receiver], trust=trust)
        assert got.payload == payload
        ours_build = timed(
            lambda p=payload: build_user_message(
                SUBMISSION, p, signer=sender, receiver_certificate=receiver.certificate
            ),
            repeat,
        )
        base_build = timed(lambda p=payload: floor_build(p, sender, public), repeat)
        ours_parse = timed(
            lambda m=message: read_user_message(m.content_type, m.body, keys=[receiver], trust=trust), repeat
        )
        inputs = floor_parse_inputs(payload, sender, receiver)
        base_parse = timed(lambda i=inputs: floor_parse(i, sender, receiver), repeat)
        print(
            f"{label:>8} | {ours_build * 1e3:9.2f} {base_build * 1e3:9.2f} {ours_build / base_build:6.2f} | "
            f"{ours_parse * 1e3:9.2f} {base_parse * 1e3:9.2f} {ours_parse / base_parse:6.2f}"
        )
    memory(quick, sender, receiver)


def memory(quick: bool, sender: Credentials, receiver: Credentials) -> None:
    size = 20 * MB if quick else 100 * MB
    payload = invoice_like(size, seed=2)
    message = build_user_message(
        SUBMISSION, payload, signer=sender, receiver_certificate=receiver.certificate
    )
    del payload
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "message.bin"
        path.write_bytes(message.body)
        content_type = message.content_type
        body_len = len(message.body)
        del message
        gc.collect()
        # tracemalloc in this process: allocations made while parsing (the input already exists).
        body = path.read_bytes()
        trust = _TrustAll()
        tracemalloc.start()
        got = read_user_message(content_type, body, keys=[receiver], trust=trust)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        n = len(got.payload)
        del got, body
        rss = _child_rss(path, content_type, receiver)
    print()
    print(f"memory, parsing a {n / MB:.0f} MB payload ({body_len / MB:.1f} MB on the wire):")
    print(
        f"  python allocations during parse (tracemalloc peak): {peak / MB:7.1f} MB = {peak / n:.2f}x payload"
    )
    print(
        f"  including the input body:                           {(peak + body_len) / MB:7.1f} MB = "
        f"{(peak + body_len) / n:.2f}x payload"
    )
    if rss is not None:
        print(
            f"  process RSS growth during parse (fresh process):    {rss / MB:7.1f} MB = "
            f"{rss / n:.2f}x payload"
        )


class _TrustAll:
    """Memory bench only: the chain check is measured above and allocates nothing of note."""

    def __call__(self, certificate: object, chain: object, party_id: object) -> None:
        return None


def _child_rss(path: Path, content_type: str, receiver: Credentials) -> int | None:
    """Peak RSS growth while parsing, in a fresh process that holds only the body beforehand."""
    from cryptography.hazmat.primitives import serialization

    key_pem = receiver.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = receiver.certificate.public_bytes(serialization.Encoding.PEM)
    key_file, cert_file = path.with_suffix(".key"), path.with_suffix(".crt")
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    cert_file.write_bytes(cert_pem)
    script = str(Path(__file__).resolve())
    args = [sys.executable, script, "--rss-child", str(path), content_type, str(key_file), str(cert_file)]
    result = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return None
    return int(result.stdout.split()[0])


def rss_child(path: str, content_type: str, key_file: str, cert_file: str) -> None:
    """Runs in a fresh process: print the peak-RSS growth caused by parsing the body in ``path``."""
    from accesspoint.pki import load_credentials

    def status(field: str) -> int:
        text = Path("/proc/self/status").read_text()
        return int(text.split(f"{field}:")[1].split()[0]) * 1024

    creds = load_credentials(Path(key_file), Path(cert_file))
    body = Path(path).read_bytes()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM), Linux >= 4.0
    before = status("VmRSS")
    got = read_user_message(content_type, body, keys=[creds], trust=_TrustAll())
    print(status("VmHWM") - before, len(got.payload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--rss-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    run(args.quick)


if __name__ == "__main__":
    main()
