"""The store as it is now, as a zip of `data/`-format YAML files: what `python -m bot export`
writes, for an operator to keep, review or import elsewhere."""

from __future__ import annotations

import asyncio
import io
import tempfile
import zipfile
from pathlib import Path

from bot.content.models import Content
from bot.content.yaml_io import dump_content
from bot.storage import Database


async def export_zip(db: Database) -> bytes:
    content = await db.load_content()
    # Written and packed in a thread: the bot keeps answering meanwhile.
    return await asyncio.to_thread(_zipped, content)


def _zipped(content: Content) -> bytes:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        folder = Path(tmp)
        for path in dump_content(content, folder):
            name = path.relative_to(folder).as_posix()
            archive.write(path, name, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
