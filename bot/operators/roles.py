"""Operator roles: admins are named in ADMIN_IDS, editors are granted by an admin in the bot."""

from __future__ import annotations

from enum import StrEnum

from bot.config import Settings
from bot.storage import Database


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


async def role_of(user_id: int, settings: Settings, db: Database) -> Role | None:
    """Asked on every operator update, so a revoked editor loses access at once."""
    if user_id in settings.admin_ids:
        return Role.ADMIN
    if await db.is_editor(user_id):
        return Role.EDITOR
    return None


async def grant_editor(db: Database, settings: Settings, user_id: int, by: int) -> bool:
    """False when the user is already an operator (an admin needs no editor role)."""
    if user_id in settings.admin_ids:
        return False
    return await db.set_editor(user_id, by, granted=True)


async def revoke_editor(db: Database, user_id: int, by: int) -> bool:
    return await db.set_editor(user_id, by, granted=False)
