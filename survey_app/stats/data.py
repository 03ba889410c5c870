"""A wave's responses out of the database: as DataFrames for the analysis, and as export files.

Rows come from `survey_app.fieldwork.responses_export.rows` (one per complete response, coded,
no token or name) and are handled in chunks, so a download of 100,000 responses never holds them
all as Python objects: CSV streams row by row, and .xlsx, .sav and .dta are written to a temporary
file first.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ..fieldwork.responses_export import every_version_definition, header, rows

if TYPE_CHECKING:  # numpy and pandas are imported where used (see `survey_app.stats.chain`)
    import pandas as pd

#: Rows handled at once when a file is built in chunks.
CHUNK = 5000
#: Columns every export has besides the questionnaire's items.
WEIGHT = "weight"


def questionnaire_definition(session: Session, code: str) -> dict[str, Any] | None:
    """The labels of every column of the export, as plain data (shared scales resolved): the
    newest version's, and an earlier version's for the items only it has."""
    return every_version_definition(session, code)


def chunks(
    session: Session, code: str, wave_code: str, weights: dict[int, float] | None = None
) -> Iterator[pd.DataFrame]:
    """The complete responses as text DataFrames of at most `CHUNK` rows; empty cells missing."""
    import numpy as np
    import pandas as pd

    columns = header(session, code)
    stream = rows(session, code, wave_code)
    while True:
        batch = list(itertools.islice(stream, CHUNK))
        if not batch:
            return
        frame = pd.DataFrame(batch, columns=columns).replace("", np.nan)
        if weights is not None:
            frame[WEIGHT] = [weights.get(int(r)) for r in frame["response_id"]]
        yield frame


def responses_frame(session: Session, code: str, wave_code: str) -> pd.DataFrame:
    """Every complete response of a questionnaire in a wave, cells as text, as `analysis` reads."""
    import pandas as pd

    parts = list(chunks(session, code, wave_code))
    if not parts:
        return pd.DataFrame(columns=header(session, code), dtype=object)
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# CSV, streamed


def labelled_frames(
    frames: Iterable[pd.DataFrame], questionnaire: dict[str, Any], language: str
) -> Iterator[pd.DataFrame]:
    """Answer codes replaced by their labels in ``language``, chunk by chunk."""
    from analysis.export import with_labels

    for frame in frames:
        yield with_labels(frame, questionnaire, language)


def temporary_file(suffix: str) -> Path:
    descriptor, name = tempfile.mkstemp(prefix="par-export-", suffix=suffix)
    os.close(descriptor)
    return Path(name)


def file_blocks(path: Path, block: int = 1 << 16, remove: bool = True) -> Iterator[bytes]:
    """The bytes of a file, a block at a time (opened only when the download starts); a temporary
    file is removed once read, even where no server calls the response's close()."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(block):
                yield chunk
    finally:
        if remove:
            path.unlink(missing_ok=True)
