"""Saylau: a Telegram bot that tells Kazakhstan's citizens what they need to know to vote."""

from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("kk", "ru", "en")
# Kazakhstan has used one time zone since 1 March 2024; tzdata keeps it current, so no offset
# is hard-coded anywhere.
ASTANA = ZoneInfo("Asia/Almaty")
