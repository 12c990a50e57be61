"""Opaque Relay cursors over the store's newest-first, id-ordered pages."""

from __future__ import annotations

import base64
import binascii

from api.errors import bad_input

DEFAULT_PAGE_SIZE = 20
_PREFIX = "execution:"


def encode_cursor(execution_id: str) -> str:
    # Opaque so clients do not build cursors themselves and we may change what is inside.
    return base64.urlsafe_b64encode(f"{_PREFIX}{execution_id}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The execution id inside a cursor from `encode_cursor`; `BAD_USER_INPUT` otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_PREFIX) or len(text) == len(_PREFIX):
        raise bad_input(
            f"invalid cursor {cursor!r}: pass an endCursor from a previous page", fields=["after"]
        )
    return text[len(_PREFIX) :]


def page_size(first: int | None, maximum: int) -> int:
    """`first` defaulted and capped at `maximum`; below 1 is an error."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if first < 1:
        raise bad_input(f"first must be at least 1, got {first}", fields=["first"])
    return min(first, maximum)
