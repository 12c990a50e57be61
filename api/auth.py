"""Who is calling: a bearer API key names a tenant; every operation is scoped to it."""

from __future__ import annotations

from api.errors import ApiError, ErrorCode
from common.keys import hash_key
from common.store.base import Store

#: The tenant of every keyless request when auth is off (`AGENTFLEET_AUTH=false`, dev).
DEV_TENANT = "default"

_SCHEME = "bearer"


def bearer_token(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None when there is no header.

    A header in any other shape is rejected rather than ignored, so a malformed key never
    silently falls back to the dev tenant.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != _SCHEME or not token.strip():
        raise ApiError(
            ErrorCode.UNAUTHENTICATED, "the Authorization header must be 'Bearer <API key>'"
        )
    return token.strip()


async def authenticate(store: Store, authorization: str | None, *, auth_required: bool) -> str:
    """The caller's tenant, or `UNAUTHENTICATED`.

    Without auth (dev) a request with no key is `DEV_TENANT`; a key that is sent must still be
    valid, so dev can show several tenants side by side.
    """
    token = bearer_token(authorization)
    if token is None:
        if not auth_required:
            return DEV_TENANT
        raise ApiError(
            ErrorCode.UNAUTHENTICATED,
            "an API key is required: send 'Authorization: Bearer <API key>'",
        )
    tenant = await store.tenant_for_key(hash_key(token))
    if tenant is None:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "the API key is not valid")
    return tenant
