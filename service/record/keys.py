"""The record's MAC keys (HMAC-SHA256), kept outside the database and rotatable.

Keys come from `SELECTION_RECORD_KEYS` (`id:key,id:key`, the last one current) and from the
key file `record_keys` in the data folder (one `id:key` a line, the last one current); the
environment's keys come after the file's, so its last key signs. In development a missing
file is made with a new key; in production a missing key is refused (MissingRecordKey).
New events are signed with the current key and carry its id; old keys only verify."""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config import Settings, get_settings

MIN_KEY_BYTES = 32


class MissingRecordKey(RuntimeError):
    """No usable MAC key for the record (production mode), or a malformed one."""


KEYS_HOW = ("Give them in SELECTION_RECORD_KEYS (`id:key,…`, 32+ bytes each, the last one"
            " signs), or write the key file once with `python -m service rotate-record-key`.")


@dataclass(frozen=True)
class Keyring:
    """Every key by id, and the id of the one that signs new events."""

    current: str
    keys: dict[str, bytes]

    def key(self, key_id: str) -> bytes | None:
        """The key of `key_id`, None when this service does not have it."""
        return self.keys.get(key_id)


def _parse(text: str, where: str) -> list[tuple[str, bytes]]:
    out = []
    items = [i for line in text.splitlines() if not line.strip().startswith("#")
             for i in line.split(",")]
    for item in items:
        item = item.strip()
        if not item:
            continue
        key_id, sep, key = item.partition(":")
        key_id, key = key_id.strip(), key.strip()
        if not sep or not key_id or len(key_id) > 32 or not key_id.replace("-", "").isalnum():
            raise MissingRecordKey(f"A record key in {where} is not `id:key` (id: letters,"
                                   f" digits and '-', up to 32). {KEYS_HOW}")
        if len(key.encode()) < MIN_KEY_BYTES:
            raise MissingRecordKey(f"The record key '{key_id}' in {where} is shorter than"
                                   f" {MIN_KEY_BYTES} bytes. {KEYS_HOW}")
        out.append((key_id, key.encode()))
    return out


def key_file(settings: Settings) -> Path:
    """Where the record's keys are kept when the environment does not give them all."""
    return settings.data_dir / "record_keys"


def new_key_line(now: datetime | None = None) -> tuple[str, str]:
    """A new key id (its date and a random tail) and key."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"k{stamp}-{secrets.token_hex(3)}", secrets.token_urlsafe(48)


def add_key(path: Path) -> str:
    """Append a new key to the key file (made readable by its owner only) and return its id;
    it becomes the current key of every process that loads the keys after this."""
    key_id, key = new_key_line()
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        if not existed:
            f.write("# the record's MAC keys (id:key); the last one signs new events; never remove one\n")
        f.write(f"{key_id}:{key}\n")
    return key_id


def load(settings: Settings) -> Keyring:
    """The keyring from the key file and the environment; see the module's docstring."""
    path = key_file(settings)
    found: list[tuple[str, bytes]] = []
    if path.exists():
        found += _parse(path.read_text(encoding="utf-8"), str(path))
    if settings.record_keys:
        found += _parse(settings.record_keys, "SELECTION_RECORD_KEYS")
    if not found:
        if settings.environment == "production":
            raise MissingRecordKey(f"No record key: production mode needs SELECTION_RECORD_KEYS"
                                   f" or the file {path}. {KEYS_HOW}")
        add_key(path)
        found = _parse(path.read_text(encoding="utf-8"), str(path))
    keys: dict[str, bytes] = {}
    for key_id, key in found:
        if key_id in keys and keys[key_id] != key:
            raise MissingRecordKey(f"The record key id '{key_id}' is given twice with different"
                                   " keys.")
        keys[key_id] = key
    return Keyring(current=found[-1][0], keys=keys)


_lock = threading.Lock()
_cached: tuple[object, Keyring] | None = None


def keyring() -> Keyring:
    """The process's keyring, loaded once (after a rotation, restart the service so that it
    signs with the new key; until then it keeps signing with the old one, which stays valid)."""
    global _cached
    settings = get_settings()
    with _lock:
        if _cached is None or _cached[0] is not settings:
            _cached = (settings, load(settings))
        return _cached[1]


def reload() -> Keyring:
    """Forget the loaded keyring and load it again (after a rotation in this process)."""
    global _cached
    with _lock:
        _cached = None
    return keyring()
