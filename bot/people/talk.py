"""Replies to small talk and the operator's details for /about, in the current locale."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _


def small_talk(intent: str | None) -> str | None:
    """The reply to a greeting, a thank-you or a "how are you", in the user's language."""
    if intent == "smalltalk.greeting":
        return _(
            "Hello! Ask me about elections in Kazakhstan in your own words, or pick a section:"
        )
    if intent == "smalltalk.thanks":
        return _("You're welcome! Ask me anything else about the elections, or pick a section:")
    if intent == "smalltalk.how_are_you":
        return _(
            "I am fine, thank you! I am here to answer questions about elections in Kazakhstan: "
            "ask in your own words, or pick a section:"
        )
    return None


def operator_text(name: str | None, contact: str | None) -> str:
    """Who runs this copy of the bot and how to reach them (OPERATOR_NAME, OPERATOR_CONTACT),
    and that it is not an official service."""
    name, contact = (name or "").strip(), (contact or "").strip()
    if name and contact:
        who = _("This bot is run by {name}. Contact: {contact}.").format(
            name=escape(name), contact=escape(contact)
        )
    elif name:
        who = _(
            "This bot is run by {name}, who has not set contact details. "
            "You can write to them with /feedback."
        ).format(name=escape(name))
    elif contact:
        who = _("Contact the people who run this bot: {contact}.").format(contact=escape(contact))
    else:
        who = _(
            "The operator of this bot has not set their name or contact details. "
            "You can write to them with /feedback."
        )
    official = _(
        "It is not an official service: official information is published by the Central "
        "Election Commission at election.gov.kz."
    )
    return f"{who}\n{official}"


ABOUT_ENTRY = "bot.about"


def with_operator(answer: str, entry_id: str, name: str | None, contact: str | None) -> str:
    """The about entry ("who runs this bot?") carries the operator's details wherever it is
    shown: /about, the About section, a question typed in words."""
    if entry_id != ABOUT_ENTRY:
        return answer
    return answer + "\n\n" + operator_text(name, contact)
