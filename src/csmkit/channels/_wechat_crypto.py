"""WeChat Official Account signatures and the encrypted ("safe") mode, exactly as the
platform documents it (the WXBizMsgCrypt scheme)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import Any

from csmkit.errors import WebhookSignatureError, WebhookVerificationError

__all__ = ["WeChatCrypto", "wechat_signature"]

_BLOCK = 32  # WeChat pads to 32-byte blocks (PKCS#7 with k = 32), not AES's 16


def wechat_signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """SHA-1 hex of the token, timestamp, nonce (and, in safe mode, the ``Encrypt``
    value) sorted as strings and concatenated — the ``signature`` and
    ``msg_signature`` query parameters.

    Examples:
        >>> wechat_signature("spamtest", "1409735669", "1320562132")[:12]
        '16120ec1b8db'
    """
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def check_signature(expected_of: str, offered: str | None, what: str) -> None:
    """Constant-time comparison of a hex signature; raises on mismatch."""
    if not offered:
        raise WebhookSignatureError(f"missing query parameter {what}")
    if not hmac.compare_digest(
        expected_of.encode(), offered.strip().lower().encode("ascii", "replace")
    ):
        raise WebhookSignatureError(f"{what} does not match (wrong token or altered request)")


def _cipher(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        raise WebhookVerificationError(
            "WeChat safe mode needs the 'cryptography' library: pip install csmkit[wechat]"
        ) from None
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


class WeChatCrypto:
    """AES-256-CBC of WeChat's safe mode.

    The 43-character ``EncodingAESKey`` is base64 (without its ``=``) of the 32-byte
    AES key; the IV is the key's first 16 bytes; plaintext is 16 random bytes, the
    XML's length as 4 bytes big-endian, the XML, then the AppID, padded PKCS#7-style
    to a multiple of 32 bytes; the ciphertext travels base64-encoded in ``<Encrypt>``.

    Args:
        encoding_aes_key: The 43-character key from the platform's settings.
        app_id: The official account's AppID (it must end every plaintext).

    Raises:
        WebhookVerificationError: a key that is not 43 base64 characters of 32 bytes,
            an empty AppID.
    """

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
            raise WebhookVerificationError(
                "encoding_aes_key must be the 43-character EncodingAESKey"
            )
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("encoding_aes_key is not base64") from None
        if len(key) != 32:
            raise WebhookVerificationError("encoding_aes_key must decode to 32 bytes")
        if not isinstance(app_id, str) or not app_id.strip():
            raise WebhookVerificationError("safe mode needs the AppID (app_id)")
        self._key = key
        self.app_id = app_id.strip()

    def __repr__(self) -> str:
        return f"<WeChatCrypto app_id={self.app_id!r}>"

    def encrypt(self, xml: bytes, *, random_bytes: bytes | None = None) -> str:
        """The base64 ``Encrypt`` value for ``xml`` (replies in safe mode).

        Args:
            xml: The UTF-8 XML.
            random_bytes: The 16 leading random bytes (tests pass fixed ones).
        """
        prefix = os.urandom(16) if random_bytes is None else random_bytes
        if len(prefix) != 16:
            raise WebhookVerificationError("random_bytes must be 16 bytes")
        plain = prefix + struct.pack(">I", len(xml)) + xml + self.app_id.encode("utf-8")
        pad = _BLOCK - len(plain) % _BLOCK
        plain += bytes([pad]) * pad
        encryptor = _cipher(self._key).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The XML inside an ``Encrypt`` value, after checking padding, length and AppID.

        Raises:
            WebhookVerificationError: not base64, not whole AES blocks, bad padding or
                length (a wrong EncodingAESKey), or another AppID.
        """
        try:
            data = base64.b64decode(encrypted.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise WebhookVerificationError(f"Encrypt is {len(data)} bytes, not whole AES blocks")
        decryptor = _cipher(self._key).decryptor()
        plain: bytes = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise WebhookVerificationError(
                "Encrypt does not decrypt to a padded WeChat message (wrong EncodingAESKey?)"
            )
        body = plain[16 : len(plain) - pad]
        length = int.from_bytes(body[:4], "big")
        if length > len(body) - 4:
            raise WebhookVerificationError("Encrypt: the message length is beyond its end")
        xml, app_id = body[4 : 4 + length], body[4 + length :]
        if not hmac.compare_digest(app_id, self.app_id.encode("utf-8")):
            raise WebhookVerificationError(
                "Encrypt: the message is for another AppID than this account's"
            )
        return xml
