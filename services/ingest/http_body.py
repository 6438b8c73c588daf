"""Reading a request body within a size limit, and multipart forms from bytes already read."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from services.ingest.problems import Problem, Refused, too_large
from services.leads.events import Attachment

MAX_PARTS = 200
MAX_FILES = 50


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit` (declared or streamed)."""
    declared = request.headers.get("content-length", "").strip()
    # ASCII digits only ("²" is a digit to str.isdigit, not to int); 19 of them pass any limit
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise Refused(too_large(limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


async def multipart_form(
    request: Request, body: bytes, limit: int
) -> tuple[tuple[tuple[str, str], ...], tuple[Attachment, ...]]:
    """A multipart/form-data body's text fields (in order) and its files' metadata."""
    replayed = False

    async def receive() -> Message:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    replay = Request(request.scope, receive)
    try:
        form: FormData = await replay.form(
            max_files=MAX_FILES, max_fields=MAX_PARTS, max_part_size=limit
        )
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "message", None) or getattr(exc, "detail", "")
        raise Refused(
            Problem(400, "malformed", "body", f"body: {detail}", "multipart/form-data")
        ) from None
    try:
        fields: list[tuple[str, str]] = []
        files: list[Attachment] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(
                    Attachment(
                        filename=value.filename or None,
                        content_type=value.content_type or "application/octet-stream",
                        size_bytes=value.size or 0,
                    )
                )
            else:
                fields.append((name, value))
        return tuple(fields), tuple(files)
    finally:
        await form.close()
