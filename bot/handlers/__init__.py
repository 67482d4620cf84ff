"""Every feature's router, included in one place (order matters: free text comes last).

Each module's build() registers its handlers on a new Router: a Router joins one parent only,
and the tests build a dispatcher per test, so routers are made per dispatcher, not per module.
"""

from aiogram import Router

from bot.handlers import abroad, errors, faq, feedback, menu, operators, remind, start


def build_router() -> Router:
    root = Router(name="saylau")
    # feedback first: while it waits for a message, any command or button leaves the step.
    # abroad before menu: it owns the "Voting abroad" section the menu would otherwise list.
    # operators before the free text, so an operator's guided step gets their typed reply.
    root.include_routers(
        errors.build(),
        feedback.build(),
        start.build(),
        operators.build(),
        abroad.build(),
        remind.build(),
        menu.build(),
        faq.build(),
    )
    return root
