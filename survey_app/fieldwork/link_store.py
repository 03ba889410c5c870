"""Personal links kept for one download: the page that imports invitees hands the links file
over once, to the admin who imported it, within an hour. Kept in a private folder, never in the
database (the database keeps only each token's hash).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path

from ..models import utcnow

#: How long a links file waits for its one download.
LINKS_LIFETIME = dt.timedelta(hours=1)

LINKS_ID_SHAPE = re.compile(r"^[0-9a-f]{32}$")


def _links_paths(directory: Path, links_id: str) -> tuple[Path, Path]:
    return directory / f"{links_id}.csv", directory / f"{links_id}.json"


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def keep_links(directory: Path, owner_id: int, data: bytes, meta: dict) -> str:
    """Keep a links CSV for one download by its owner within LINKS_LIFETIME; returns its id."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_links(directory)
    links_id = secrets.token_hex(16)  # 128 bits: the id cannot be guessed
    csv_path, meta_path = _links_paths(directory, links_id)
    record = {**meta, "owner_id": owner_id, "created_at": utcnow().isoformat()}
    _write_private(meta_path, json.dumps(record).encode())
    _write_private(csv_path, data)
    return links_id


def _expired(meta: dict, now: dt.datetime) -> bool:
    try:
        created = dt.datetime.fromisoformat(meta["created_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return now - created > LINKS_LIFETIME


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def take_links(directory: Path, links_id: str, owner_id: int) -> tuple[bytes, dict] | None:
    """The links CSV and its record, removed from disk as they are read; None when the id is
    unknown, expired, taken already or not this user's. Two requests at once: one gets it."""
    if not LINKS_ID_SHAPE.match(links_id or ""):
        return None
    csv_path, meta_path = _links_paths(directory, links_id)
    meta = _read_meta(meta_path)
    if meta is None or meta.get("owner_id") != owner_id:
        return None
    if _expired(meta, utcnow()):
        _remove(csv_path, meta_path)
        return None
    claimed = csv_path.with_name(f"{links_id}.{secrets.token_hex(8)}.taken")
    try:
        os.rename(csv_path, claimed)  # atomic: only one request wins the file
    except FileNotFoundError:
        return None
    try:
        data = claimed.read_bytes()
    finally:
        _remove(claimed, meta_path)
    return data, meta


def discard_links(directory: Path, links_id: str) -> None:
    """Remove a links file that must not be offered (its import was not committed)."""
    if LINKS_ID_SHAPE.match(links_id or ""):
        _remove(*_links_paths(directory, links_id))


def sweep_links(directory: Path) -> int:
    """Delete every links file older than LINKS_LIFETIME (and strays); returns how many."""
    if not directory.is_dir():
        return 0
    now = utcnow()
    removed = 0
    for meta_path in directory.glob("*.json"):
        meta = _read_meta(meta_path)
        if meta is None or _expired(meta, now):
            _remove(meta_path.with_suffix(".csv"), meta_path)
            removed += 1
    cutoff = (now - LINKS_LIFETIME).replace(tzinfo=dt.UTC).timestamp()
    for stray in list(directory.glob("*.taken")) + list(directory.glob("*.csv")):
        try:
            orphan = not stray.with_name(stray.name.split(".")[0] + ".json").exists()
            if stray.stat().st_mtime < cutoff or (orphan and stray.suffix == ".taken"):
                stray.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
