"""aiogram FSM storage kept in the bot's SQLite file, so a guided edit survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey

from bot.storage import Database


class SqliteStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys = DefaultKeyBuilder()

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self.db.fsm_set_state(self.keys.build(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self.db.fsm_get(self.keys.build(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.db.fsm_set_data(self.keys.build(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self.db.fsm_get(self.keys.build(key)))[1]

    async def close(self) -> None:
        """The database is closed by the dispatcher's shutdown hook."""
