"""Small pieces several handlers share."""

from __future__ import annotations

from contextlib import suppress

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

FORMATTING = frozenset(
    {"bold", "italic", "underline", "strikethrough", "code", "pre", "text_link", "blockquote"}
)


def typed_html(message: Message) -> str:
    """The answer as Telegram HTML. Text formatted in the Telegram app (bold, a link on a word)
    arrives as entities, and becomes the same tags; text without formatting is taken as typed,
    so tags written by hand (<b>...</b>) stay tags."""
    if any(e.type in FORMATTING for e in message.entities or ()):
        return message.html_text
    return message.text or ""


async def show(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replaces the message a button was pressed under, or sends a new one when it cannot be
    edited (too old, or deleted); pressing the same button twice is not an error."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)
            return
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id, text, reply_markup=markup, disable_web_page_preview=True
        )


async def acknowledge(callback: CallbackQuery, text: str | None = None) -> None:
    # The spinner on the button must stop even if Telegram has already expired the query.
    with suppress(TelegramBadRequest):
        await callback.answer(text)
