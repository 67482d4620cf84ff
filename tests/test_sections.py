"""The structured sections through the real dispatcher, in all three languages: elections and
dates, parties, the Constitution (by topic and by article number)."""

from __future__ import annotations

from datetime import date

import pytest
from aiogram import Dispatcher
from conftest import ChatDriver, buttons, only_text, translated

from bot import LOCALES
from bot.content.models import Content
from bot.keyboards import EntryCb, SectionCb
from bot.render import month_year, party_sort_key


def content_of(dp: Dispatcher) -> Content:
    return dp.workflow_data["library"].content


def entry_buttons(user: ChatDriver) -> list[str]:
    return [
        EntryCb.unpack(b.callback_data).entry_id
        for b in buttons(user.last_message().reply_markup)
        if b.callback_data and b.callback_data.startswith("faq:")
    ]


@pytest.mark.parametrize("lang", LOCALES)
async def test_elections_section_shows_the_outlook_hours_and_documents(chat, dp, lang):
    user: ChatDriver = chat(lang)
    text = only_text(await user.press(SectionCb(section="elections").pack()))
    # On 22 November 2026 no vote with a date is announced: it says so, names the lapsed
    # Kurultai announcement as unconfirmed, and shows the latest vote with its result.
    assert translated("No upcoming vote with a date is announced in our data.", lang) in text
    content = content_of(dp)
    kurultai, referendum = content.vote("kurultai-2026"), content.vote("referendum-2026")
    assert kurultai and referendum and referendum.result
    assert month_year("2026-08", lang) in text
    assert referendum.result.get(lang).split(";")[0] in text.replace("&quot;", '"')
    assert translated("Polling stations are open 07:00-20:00 local time.", lang) in text
    assert "election.gov.kz" in text
    # The general questions come first; past votes are on the next page.
    assert entry_buttons(user)[0] == "voting.next"
    await user.press(SectionCb(section="elections", page=1).pack())
    assert "voting.history" in entry_buttons(user)


async def test_countdown_when_a_vote_is_announced(settings, bot, session, updates):
    """With a dated announced vote ahead, the section counts the days to it."""
    from conftest import make_dispatcher

    dp = make_dispatcher(settings, today=date(2026, 8, 1))
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        library = dp.workflow_data["library"]
        vote = library.content.vote("kurultai-2026").model_copy(
            update={"date": date(2026, 8, 23), "month": None}
        )
        votes = [vote if v.id == vote.id else v for v in library.content.votes]
        library.use(library.content.model_copy(update={"votes": votes}))
        for lang, expected in (("en", "22 days left"), ("ru", "осталось 22 дня")):
            user = ChatDriver(dp, bot, session, updates(lang))
            text = only_text(await user.press(SectionCb(section="elections").pack()))
            assert expected in text, text
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


@pytest.mark.parametrize("lang", LOCALES)
async def test_parties_section_lists_cards_alphabetically_with_the_neutrality_note(chat, dp, lang):
    user: ChatDriver = chat(lang)
    text = only_text(await user.press(SectionCb(section="parties").pack()))
    assert translated("Saylau recommends no party or candidate.", lang).split(".")[0] in text
    content = content_of(dp)
    shown = entry_buttons(user)
    await user.press(SectionCb(section="parties", page=1).pack())
    shown += entry_buttons(user)
    listed = [i for i in shown if (content.entry(i).render or "").startswith("party:")]
    # The seven confirmed parties alphabetically, then Adilet, whose registration is unconfirmed.
    assert listed[-1] == "parties.adilet"
    names = [party_sort_key(content.party(i.split(".", 1)[1]), lang) for i in listed[:-1]]
    assert names == sorted(names), "party cards must be in alphabetical order"
    assert len(listed) == 8


@pytest.mark.parametrize("lang", LOCALES)
async def test_a_party_card_has_every_field(chat, dp, lang):
    user: ChatDriver = chat(lang)
    text = only_text(await user.press(EntryCb(entry_id="parties.auyl").pack()))
    auyl = content_of(dp).party("auyl")
    assert auyl.name.get(lang) in text.replace("&quot;", '"')
    assert translated("Programme points:", lang) in text
    assert auyl.programme.get(lang)[0] in text.replace("&quot;", '"')
    assert translated("Saylau recommends no party or candidate.", lang) in text


@pytest.mark.parametrize(
    ("lang", "question", "entry"),
    [
        ("kk", "9-бап не туралы?", "constitution.language"),
        ("kk", "Конституцияның 5 бабы", "constitution.treaties"),
        ("ru", "статья 9", "constitution.language"),
        ("ru", "что в 43 статье?", "constitution.president"),
        ("en", "article 9", "constitution.language"),
        ("en", "what does art. 5 say", "constitution.treaties"),
    ],
)
async def test_article_numbers_find_their_article(chat, dp, lang, question, entry):
    user: ChatDriver = chat(lang)
    text = only_text(await user.send(question))
    expected = content_of(dp).entry(entry).text(lang).answer
    assert expected.split("\n")[0] in text


@pytest.mark.parametrize("lang", LOCALES)
async def test_constitution_section_browses_topics(chat, dp, lang):
    user: ChatDriver = chat(lang)
    text = only_text(await user.press(SectionCb(section="constitution").pack()))
    assert "9-бап" in text and "article 9" in text
    shown = entry_buttons(user)
    assert "constitution.overview" in shown
    await user.press_button(EntryCb(entry_id=shown[0]).pack())
    assert content_of(dp).entry(shown[0]).text(lang).answer.split("\n")[0] in (
        user.last_message().text or ""
    )
