"""Translations: complete, compilable, consistent with the code; and how a locale is chosen."""

from __future__ import annotations

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from aiogram.types import User
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.pofile import read_po
from conftest import LOCALES_DIR, ROOT

from bot import LOCALES
from bot.content.models import check_html
from bot.i18n import DOMAIN, compile_catalogues, pick_locale

# The same keywords as `pybabel extract -k "_:1,1t" -k "_:1,2"`: _(text) and _(one, many, n).
KEYWORDS = parse_keywords(["_:1,1t", "_:1,2"])
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?([a-z]+)[^>]*>")


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def catalogue(lang: str) -> Catalog:
    return read(LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", lang)


def template() -> Catalog:
    return read(LOCALES_DIR / f"{DOMAIN}.pot")


def msgids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def extracted() -> dict[str | tuple[str, ...], str]:
    """Every user-facing string in bot/ now, with where it is."""
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.setdefault(message, f"bot/{filename}:{lineno}")
    return found


def singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def test_catalogues_compile(tmp_path: Path):
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo"))
    compiled = compile_catalogues(locales)
    assert sorted(p.parent.parent.name for p in compiled) == sorted(LOCALES)
    for lang in LOCALES:
        translations = gettext.translation(DOMAIN, locales, languages=[lang])
        assert translations.gettext("Menu")
        assert (
            translations.ngettext("{n} day left", "{n} days left", 5)
            .format(n=5)
            .startswith(("5", "осталось 5"))
        )
    # Up to date: nothing to do the second time.
    assert compile_catalogues(locales) == []
    # A newer .po is compiled again.
    po = locales / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    os.utime(po, (mo.stat().st_mtime + 10, mo.stat().st_mtime + 10))
    assert compile_catalogues(locales) == [mo]


def test_missing_catalogue_is_an_error(tmp_path: Path):
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    (locales / "en" / "LC_MESSAGES" / f"{DOMAIN}.po").unlink()
    with pytest.raises(FileNotFoundError, match="en"):
        compile_catalogues(locales)


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_is_translated(lang: str):
    catalog = catalogue(lang)
    pot = template()
    assert msgids(pot), "the template is empty"
    problems = []
    for message in pot:
        if not message.id:
            continue
        translation = catalog.get(message.id)
        if translation is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if translation.fuzzy:
            problems.append(f"fuzzy (not compiled): {message.id!r}")
        strings = translation.string if message.pluralizable else (translation.string,)
        if message.pluralizable:
            assert isinstance(translation.string, tuple | list)
            if len(strings) != catalog.num_plurals:
                problems.append(f"{len(strings)}/{catalog.num_plurals} forms: {message.id!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"empty: {message.id!r}")
    assert not problems, f"{lang}: " + "; ".join(problems)


@pytest.mark.parametrize("lang", LOCALES)
def test_translations_keep_placeholders_and_valid_html(lang: str):
    problems = []
    for message in catalogue(lang):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
            if sorted(TAG.findall(string)) != sorted(TAG.findall(ids[0])):
                problems.append(f"HTML tags differ: {ids[0]!r} -> {string!r}")
            try:
                check_html(string)
            except ValueError as exc:
                problems.append(f"{string!r}: {exc}")
    assert not problems, f"{lang}: " + "; ".join(problems)


def test_code_strings_are_all_in_the_catalogues():
    """Fails when someone adds a user-facing string without extracting and translating it:
    run `pybabel extract -k "_:1,1t" -k "_:1,2" -o locales/messages.pot bot`, then
    `pybabel update -i locales/messages.pot -d locales` and translate."""
    code = extracted()
    assert len(code) > 20, "extraction found almost nothing: wrong keywords?"
    plural = [m for m in code if isinstance(m, tuple)]
    assert plural, "the plural form _(one, many, n) was not extracted"
    missing_pot = [f"{where}: {m!r}" for m, where in code.items() if m not in msgids(template())]
    assert not missing_pot, "not in locales/messages.pot: " + "; ".join(missing_pot)
    for lang in LOCALES:
        catalog = catalogue(lang)
        missing = [
            f"{where}: {m!r}"
            for m, where in code.items()
            if catalog.get(m) is None or not catalog.get(m).string
        ]
        assert not missing, f"not translated in {lang}: " + "; ".join(missing)


def test_catalogues_have_no_stale_messages():
    """Strings the code no longer uses should leave the catalogues (pybabel update does)."""
    code = {singular(m) for m in extracted()}
    stale = sorted(singular(m) for m in msgids(template()) if singular(m) not in code)
    assert not stale, f"in messages.pot but no longer in bot/: {stale}"


# --- which locale a user gets --------------------------------------------------------------


def user(language_code: str | None) -> User:
    return User(id=1, is_bot=False, first_name="V", language_code=language_code)


@pytest.mark.parametrize(
    ("saved", "language_code", "expected"),
    [
        ("ru", "en", "ru"),  # a saved choice wins
        ("kk", "ru-RU", "kk"),
        ("en", None, "en"),
        (None, "ru", "ru"),  # then Telegram's language
        (None, "ru-RU", "ru"),
        (None, "RU", "ru"),
        (None, "en-GB", "en"),
        (None, "kk", "kk"),
        (None, "kk-KZ", "kk"),
        (None, "de", "kk"),  # then the default
        (None, "", "kk"),
        (None, None, "kk"),
        ("xx", "en", "en"),  # a saved value the bot no longer offers is ignored
        ("xx", "de", "kk"),
    ],
)
def test_pick_locale_order(saved, language_code, expected):
    assert pick_locale(saved, user(language_code), "kk") == expected


def test_pick_locale_other_default_and_no_user():
    assert pick_locale(None, user("de"), "ru") == "ru"
    assert pick_locale(None, None, "en") == "en"
    assert pick_locale("kk", None, "en") == "kk"
