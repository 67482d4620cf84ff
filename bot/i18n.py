"""gettext catalogues (locales/<lang>/LC_MESSAGES/messages.po) and the user's locale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import Message, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import LOCALES
from bot.people.language import detect_language
from bot.storage import Database

DOMAIN = "messages"


def compile_catalogues(locales_dir: Path) -> list[Path]:
    """Compiles each .po whose .mo is missing or older, so a fresh clone runs as it is."""
    compiled = []
    for lang in LOCALES:
        po = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        if not po.exists():
            raise FileNotFoundError(f"missing translation catalogue {po}")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=lang)
        with mo.open("wb") as target:
            write_mo(target, catalog)
        compiled.append(mo)
    return compiled


def build_i18n(locales_dir: Path, default_locale: str) -> I18n:
    compile_catalogues(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def known_locale(saved: str | None, user: User | None) -> str | None:
    """The user's saved choice, else Telegram's language_code when it is kk, ru or en."""
    if saved in LOCALES:
        return saved
    code = (user.language_code or "").split("-")[0].lower() if user else ""
    return code if code in LOCALES else None


def pick_locale(saved: str | None, user: User | None, default: str) -> str:
    return known_locale(saved, user) or default


OFFER_KEY = "offer_locale"  # handler data: the detected language to offer as the user's own


class LocaleMiddleware(I18nMiddleware):
    """The user's saved choice first; without one, the language a typed message is clearly
    written in (and handlers are told to offer it, under OFFER_KEY), then Telegram's
    language_code, then the default."""

    def __init__(self, i18n: I18n, db: Database) -> None:
        super().__init__(i18n)
        self.db = db

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        saved = await self.db.get_locale(user.id) if user else None
        locale = pick_locale(saved, user, self.i18n.default_locale)
        # A reply to a guided step (the feedback the bot asked for) is not a new question: it
        # keeps the language the step was asked in.
        if saved in LOCALES or not isinstance(event, Message) or data.get("raw_state"):
            return locale
        text = event.text or ""
        written = detect_language(text) if not text.startswith("/") else None
        if written is not None and written != locale:
            data[OFFER_KEY] = written
            return written
        return locale
