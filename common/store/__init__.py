"""Store backends behind one interface; `open_store` picks one from the settings."""

from __future__ import annotations

from common.settings import Settings
from common.store.base import Store

__all__ = ["Store", "open_store"]


async def open_store(settings: Settings) -> Store:
    """MongoDB when `MONGODB_URL` is set, otherwise the embedded SQLite file."""
    store: Store
    if settings.mongodb_url:
        from common.store.mongo import MongoStore

        store = MongoStore.from_url(
            settings.mongodb_url, settings.mongodb_db, write_concern=settings.write_concern
        )
    else:
        from common.store.sqlite import SqliteStore

        store = SqliteStore(settings.sqlite_path)
    await store.init()
    return store
