"""Payload byte work: gzip, AES-128-GCM (XML Encryption 1.1 layout), RSA-OAEP key transport.

Opening an attachment is one streaming pass over the ciphertext: decrypt a chunk, hash it (the
signature digest is over the compressed bytes) and feed it to a bounded gunzip. Nothing is returned
unless the GCM tag and the signed digest both hold; a decompression problem is reported only after
integrity is settled, so tampering is never mistaken for a bad gzip.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accesspoint.as4.errors import DECOMPRESSION_FAILURE, FAILED_AUTHENTICATION, FAILED_DECRYPTION, EbmsError
from accesspoint.as4.profile import Limits

GCM_IV_BYTES = 12
GCM_TAG_BYTES = 16
AES128_KEY_BYTES = 16
GZIP_LEVEL = 6
_CHUNK = 256 * 1024  # ciphertext per step: small transient buffers, few Python-level iterations
_MAX_INFLATE_STEP = 4 * 1024 * 1024  # bounds zlib's own temporary buffers per call
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def new_session_key() -> bytes:
    return os.urandom(AES128_KEY_BYTES)


def wrap_key(key: bytes, recipient: rsa.RSAPublicKey) -> bytes:
    """RSA-OAEP (xmlenc11), SHA-256 digest, MGF1 with SHA-256."""
    return recipient.encrypt(key, _oaep())


def unwrap_key(wrapped: bytes, private_key: rsa.RSAPrivateKey) -> bytes:
    try:
        key = private_key.decrypt(wrapped, _oaep())
    except ValueError:
        raise EbmsError(
            FAILED_DECRYPTION, "the transported key cannot be decrypted", reason="key-unwrap"
        ) from None
    if len(key) != AES128_KEY_BYTES:
        raise EbmsError(FAILED_DECRYPTION, "the transported key is not an AES-128 key", reason="key-unwrap")
    return key


def gzip_compress(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    """gzip with a fixed header (mtime 0) so equal payloads compress to equal bytes."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(data) + compressor.flush()


def encrypt(key: bytes, plaintext: bytes) -> bytes:
    """IV || ciphertext || tag, as XML Encryption 1.1 lays out AES-GCM octets."""
    iv = os.urandom(GCM_IV_BYTES)
    return iv + AESGCM(key).encrypt(iv, plaintext, None)


def payload_limit(compressed_size: int, limits: Limits) -> int:
    """Largest decompressed size accepted for this many compressed bytes (bomb guard)."""
    by_ratio = max(limits.ratio_floor_bytes, compressed_size * limits.max_compression_ratio)
    return min(limits.max_payload_bytes, by_ratio)


class _Gunzip:
    """Bounded streaming gunzip; remembers the first failure instead of raising mid-stream."""

    def __init__(self, limit: int) -> None:
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self.error: EbmsError | None = None

    def _fail(self, text: str, reason: str) -> None:
        self.error = EbmsError(DECOMPRESSION_FAILURE, text, reason=reason)
        self.chunks = []  # free what was inflated so far

    def feed(self, data: bytes) -> None:
        if self.error is not None:
            return
        inflater = self._inflater
        try:
            while data:
                if inflater.eof:
                    self._fail("data after the end of the gzip stream", "gzip-trailing")
                    return
                piece = inflater.decompress(data, min(self._limit - self.size + 1, _MAX_INFLATE_STEP))
                self.size += len(piece)
                if self.size > self._limit:
                    self._fail(f"payload inflates beyond {self._limit} bytes", "gzip-bomb")
                    return
                self.chunks.append(piece)
                data = inflater.unconsumed_tail
            if inflater.unused_data:
                self._fail("data after the end of the gzip stream", "gzip-trailing")
        except zlib.error as exc:
            self._fail(f"payload is not valid gzip: {exc}", "gzip-invalid")

    def finish(self) -> bytes:
        if self.error is None and not self._inflater.eof:
            self._fail("gzip stream is truncated", "gzip-truncated")
        if self.error is not None:
            raise self.error
        chunks, self.chunks = self.chunks, []
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def open_attachment(
    key: bytes, sealed: memoryview, *, expected_digest: bytes, gzipped: bool, limits: Limits
) -> bytes:
    """Decrypt, check the signed SHA-256 digest of the plaintext, and gunzip if ``gzipped``."""
    if len(sealed) < GCM_IV_BYTES + GCM_TAG_BYTES:
        raise EbmsError(FAILED_DECRYPTION, "encrypted attachment is too short", reason="gcm")
    if not gzipped and len(sealed) > limits.max_payload_bytes + GCM_IV_BYTES + GCM_TAG_BYTES:
        raise EbmsError(DECOMPRESSION_FAILURE, "payload exceeds the size limit", reason="payload-size")
    iv = bytes(sealed[:GCM_IV_BYTES])
    tag = bytes(sealed[-GCM_TAG_BYTES:])
    body = sealed[GCM_IV_BYTES:-GCM_TAG_BYTES]
    decryptor = Cipher(algorithms.AES(key), modes.GCM(iv, tag)).decryptor()
    digest = hashlib.sha256()
    gunzip = _Gunzip(payload_limit(len(body), limits)) if gzipped else None
    plain: list[bytes] = []
    for offset in range(0, len(body), _CHUNK):
        chunk = decryptor.update(body[offset : offset + _CHUNK])
        digest.update(chunk)
        if gunzip is not None:
            gunzip.feed(chunk)
        else:
            plain.append(chunk)
    try:
        decryptor.finalize()
    except InvalidTag:
        raise EbmsError(FAILED_DECRYPTION, "attachment fails AES-GCM authentication", reason="gcm") from None
    if not hmac.compare_digest(digest.digest(), expected_digest):
        raise EbmsError(
            FAILED_AUTHENTICATION, "attachment digest does not match the signature", reason="digest"
        )
    if gunzip is None:
        return b"".join(plain)
    return gunzip.finish()
