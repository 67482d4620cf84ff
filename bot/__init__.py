"""Saylau: a Telegram bot that tells Kazakhstan's citizens what they need to know to vote."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("kk", "ru", "en")
