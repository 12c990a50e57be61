"""API keys: a random secret shown once to its owner; the store keeps only its SHA-256 hash.

A stolen copy of the keys table therefore authenticates nobody. Keys carry a short prefix so that
they are recognisable in logs and secret scanners.
"""

from __future__ import annotations

import hashlib
import secrets

from common.clock import Clock, SystemClock
from common.store.base import Store

KEY_PREFIX = "af_"

#: Random bytes per key (256 bits): far beyond guessing, so a fast hash is enough.
KEY_BYTES = 32


def generate_key() -> str:
    """A new raw API key, e.g. `af_Q2x…`. Show it once; store only `hash_key(key)`."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def hash_key(raw: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


async def create_key(store: Store, tenant: str, clock: Clock | None = None) -> str:
    """Create a key for `tenant`, store its hash, and return the raw key (the only copy)."""
    if not tenant or not tenant.strip():
        raise ValueError("tenant must be a non-empty name")
    raw = generate_key()
    await store.create_api_key(tenant.strip(), hash_key(raw), (clock or SystemClock()).now())
    return raw
