"""Every feature's router, included in one place (order matters: free text comes last)."""

from aiogram import Router

from bot.handlers import abroad, errors, faq, menu, start


def build_router() -> Router:
    root = Router(name="saylau")
    # abroad before menu: it opens its own section, which the menu's generic handler also fits.
    root.include_routers(errors.router, start.router, abroad.router, menu.router, faq.router)
    return root
