"""Every feature's router, included in one place (order matters: free text comes last)."""

from aiogram import Router

from bot.handlers import errors, faq, menu, start


def build_router() -> Router:
    root = Router(name="saylau")
    root.include_routers(errors.router, start.router, menu.router, faq.router)
    return root
