"""Evidence uploads: the type read from the content, not the name; the size checked first.

A short list of signatures rather than libmagic: the list of accepted types is closed (PDF,
PNG, JPEG, legacy and Open XML office files, OpenDocument), an Open XML or OpenDocument file must
be a zip whose directory names its kind, and no system library is needed on the hosts. The
zip's directory is read, never its members, so a zip bomb costs nothing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from flask_babel import gettext as _

#: An evidence document larger than this is better given as a link to where it is published.
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
#: A zip listing more members than this is no office document.
MAX_ZIP_MEMBERS = 5000

#: {extension: the type its content must show}
EXTENSIONS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}


class EvidenceRefused(ValueError):
    """The upload is not a document we keep; the message says why and what to do."""


def _zip_names(content: bytes) -> tuple[list[str], zipfile.ZipFile] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if len(names) > MAX_ZIP_MEMBERS:
        return None
    return names, archive


def _content_is(extension: str, content: bytes) -> bool:
    if extension == "pdf":
        return content.startswith(b"%PDF-")
    if extension == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if extension in ("doc", "xls", "ppt"):
        return content.startswith(_OLE2)
    if not content.startswith(b"PK\x03\x04"):
        return False
    found = _zip_names(content)
    if found is None:
        return False
    names, archive = found
    if extension in _OOXML_PART:
        return "[Content_Types].xml" in names and any(
            n.startswith(_OOXML_PART[extension]) for n in names
        )
    # OpenDocument: a first member "mimetype", stored, holding the type
    if names[:1] != ["mimetype"]:
        return False
    info = archive.getinfo("mimetype")
    if info.file_size > 100:
        return False
    return archive.read("mimetype").decode("ascii", "replace").strip() == EXTENSIONS[extension]


def check_evidence(content: bytes, filename: str) -> tuple[str, str]:
    """(a safe file name, the content type) of an acceptable evidence file; else
    `EvidenceRefused`."""
    if len(content) > MAX_EVIDENCE_BYTES:
        raise EvidenceRefused(
            _(
                "The file is larger than %(size)s MB: give a link to where it is published "
                "instead.",
                size=MAX_EVIDENCE_BYTES // (1024 * 1024),
            )
        )
    if not content:
        raise EvidenceRefused(_("The file is empty."))
    name = PurePath(filename.replace("\\", "/")).name.strip() or "evidence"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise EvidenceRefused(
            _(
                "Evidence can be PDF, an image (PNG, JPEG) or an office file (%(kinds)s); "
                "%(name)s is not one of them.",
                kinds=", ".join(e for e in EXTENSIONS if e not in ("pdf", "png", "jpg", "jpeg")),
                name=name,
            )
        )
    if not _content_is(extension, content):
        raise EvidenceRefused(
            _(
                "%(name)s is not a .%(extension)s file inside: save it again in that format, or "
                "give the right extension.",
                name=name,
                extension=extension,
            )
        )
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '"/\\;')[:200]
    return cleaned or "evidence", EXTENSIONS[extension]
