"""Hostile files made from harmless ones, for the tests of the readers' limits."""

from __future__ import annotations

import io
import zipfile


def rewritten(data: bytes, member: str, change) -> bytes:
    """The workbook with one part's XML changed, as a hostile file would be made."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, change(content) if item.filename == member else content)
    return out.getvalue()
