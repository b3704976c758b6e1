"""Decrypt `~/.mylogin.cnf` (written by mysql_config_editor), honouring MYSQL_TEST_LOGIN_FILE.

Layout (mysys/my_default.cc, client/mysql_config_editor.cc): 4 unused bytes, a 20-byte key, then records of a
4-byte little-endian length followed by that many bytes of AES-128-ECB ciphertext (PKCS#7 padded). The AES key
is the 20-byte key folded into 16 bytes with XOR.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from mysqlinspect.connection.option_files import OptionFile, parse_option_text
from mysqlinspect.errors import OptionFileError

_UNUSED = 4
_KEY_LEN = 20
_AES_KEY_LEN = 16


def login_file_path() -> Path:
    override = os.environ.get("MYSQL_TEST_LOGIN_FILE")
    if override:
        return Path(override)
    return Path.home() / ".mylogin.cnf"


def _aes_key(key: bytes) -> bytes:
    folded = bytearray(_AES_KEY_LEN)
    for i, byte in enumerate(key):
        folded[i % _AES_KEY_LEN] ^= byte
    return bytes(folded)


def decrypt_login_file(data: bytes, path: str) -> str:
    """Return the plain option-file text hidden in a .mylogin.cnf image."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(data) < _UNUSED + _KEY_LEN:
        raise OptionFileError(path, 0, "login path file is too short")
    key = _aes_key(data[_UNUSED : _UNUSED + _KEY_LEN])
    pos = _UNUSED + _KEY_LEN
    lines: list[str] = []
    while pos + 4 <= len(data):
        (length,) = struct.unpack_from("<i", data, pos)
        pos += 4
        if length <= 0 or pos + length > len(data) or length % 16:
            raise OptionFileError(path, 0, "login path file is corrupt")
        decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
        plain = decryptor.update(data[pos : pos + length]) + decryptor.finalize()
        pad = plain[-1]
        if 1 <= pad <= 16:
            plain = plain[:-pad]
        lines.append(plain.decode("utf-8", errors="replace").rstrip("\n"))
        pos += length
    return "\n".join(lines) + "\n"


def read_login_file(path: Path | None = None) -> OptionFile | None:
    """Parse the login path file, or None when it does not exist."""
    p = path or login_file_path()
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OptionFileError(str(p), 0, f"cannot read: {exc.strerror}") from None
    return parse_option_text(decrypt_login_file(data, str(p)), str(p))


def encrypt_login_file(text: str) -> bytes:
    """Build a .mylogin.cnf image from option-file text (used by tests and `sandbox`)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw_key = os.urandom(_KEY_LEN)
    key = _aes_key(raw_key)
    out = bytearray(b"\0" * _UNUSED + raw_key)
    for line in text.splitlines():
        plain = (line + "\n").encode()
        pad = 16 - len(plain) % 16
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        cipher = encryptor.update(plain) + encryptor.finalize()
        out += struct.pack("<i", len(cipher)) + cipher
    return bytes(out)
