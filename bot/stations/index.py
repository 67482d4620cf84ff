"""Finding polling stations abroad from what people type or from where they are.

Place names come from stations.yaml (the city in kk/ru/en), GeoNames (the other names of that
city), CLDR (every country in kk/ru/en) with the colloquial names CLDR lacks ("USA", "Англия"),
and, after those, every GeoNames city (its name and its Cyrillic names), Kazakhstan's included.
Names and the typed words are compared on the folded skeleton of bot.search.text, so scripts do
not matter, and a word may carry a Kazakh or Russian case ending ("Стамбулда", "в Берлине",
"Германии", "в Дубае") or, for the names of stations and countries, be one typo away from one.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot import ASTANA, LOCALES
from bot.content.models import (
    Content,
    Station,
    StationCountry,
    StationStatus,
    Translation,
    Vote,
)
from bot.render import outlook
from bot.search.stopwords import STOPWORDS
from bot.search.text import fold, words
from bot.stations.geo import (
    City,
    all_cities,
    country_codes,
    country_name,
    country_reference,
    distance_km,
    find_city,
    geonames_country_name,
    nearest_city,
)

OPENS, CLOSES = time(7), time(20)  # local time of the station (facts.md)
HOME = "KZ"  # not a place "abroad": its name is in half of all questions
MIN_NAME = 4  # shorter names ("Sol", "IST") collide with ordinary words
ALTERNATE_MIN = 6  # the same for the other names GeoNames gives a city ("Karti", "Amana")
STEM_MIN = 5  # Дани-и (Дания) is not worth "данные"
FUZZY_MIN = 7  # a typo is forgiven only in a word this long: "қалада" is not "Канада"
NEAR_CITY_KM = 150  # a shared location this close to a GeoNames city is taken to be in its country

# Case endings, folded. Kazakh ones follow the whole name (Токио-да, Германия-дағы, Сеул-ге;
# folding merges a doubled letter, so Берлин-нен is berlin-en); Russian ones may replace a
# final vowel (Москв-е, Германи-и), see _stem.
_KK_ENDINGS = """
da de ta te nda nde ga ge ka ke na ne a e dan den tan ten nan nen an en nin din tin in ni di
ti i men ben pen dagi degi tagi tegi ndagi ndegi lik dik tik si sinda sinde sina sine sinan sinen
sinin inda inde ina ine inan inen inin
"""
_RU_TEXT = "a ia u iu e ie i ii o om em oi ei iei iiu ah am ami ih im imi ov ev"
_RU_ENDINGS = frozenset(_RU_TEXT.split())
_ENDINGS = sorted(set(_KK_ENDINGS.split()) | _RU_ENDINGS, key=len, reverse=True)
_VOWELS = "aeiou"

# Words that make a message about voting, as folded prefixes (kk, ru, en; any script).
_VOTING = (
    "saila", "dauis", "uchask", "elshil", "konsul", "referend", "bulleten",
    "uchast", "golos", "progolos", "vibor", "izbira", "posols",
    "vote", "voti", "poling", "statio", "elekt", "embas", "balot", "prekin",
)  # fmt: skip
# "Where", "nearest": a place question's own words, as voting words are ("где голосовать в
# Мюнхене", "Мюнхенде қайда", "nearest station to Perth"), but they do not make it about voting.
_WHERE = ("gde", "kaida", "uhere", "nearest", "near", "klosest", "blijaish", "jakin", "riadom")
# Place names that are also everyday words: ru "того" (Togo), kk "қатар" (a row: Qatar),
# kk "қазан" (October, a cauldron: Kazan), kk "аман" (safe, well: Amman), ru "малый" (Mali),
# kk "бағамы" (its rate: ru Багамы). Such a name counts only when nothing but function words
# and voting words surround it ("Қазанда учаске бар ма?", not "15 қазанда").
_ORDINARY = frozenset(fold(w) for w in ("того", "қатар", "қазан", "аман", "малый", "бағамы"))
_PARENS = re.compile(r"\s*\([^)]*\)")
_LETTERS = re.compile(r"[^\W\d_]+")
_CYRILLIC_NAME = re.compile(r"[\u0400-\u04ff][\u0400-\u04ff\s'’.-]*")
# Names people use that CLDR does not give as a country's name (short forms, abbreviations,
# the part for the whole: "Англия" for the United Kingdom).
ALIASES = {
    "US": ("USA", "США", "АҚШ", "Америка", "America", "Amerika", "Штаты", "Штаттар",
           "United States of America", "Соединённые Штаты Америки"),
    "GB": ("UK", "Англия", "England", "Британия", "Britain", "Great Britain", "Ulybritaniya"),
    "AE": ("UAE", "Эмираты", "Emirates", "Арабские Эмираты", "Әмірліктер", "Әмірлік"),
    "KR": ("Корея", "Korea", "Южная Корея", "Оңтүстік Корея"),
    "NL": ("Голландия", "Holland"),
    "CZ": ("Czech Republic",),
    "RU": ("РФ", "Russian Federation", "Российская Федерация"),
    "KG": ("Кыргызстан", "Киргизстан", "Kirgizia"),
    "BY": ("Белоруссия",),
    "MD": ("Молдавия",),
    "SA": ("KSA", "Saudi", "Сауд Арабиясы"),
    "CN": ("КНР", "PRC"),
    "DE": ("ФРГ", "Deutschland"),
}  # fmt: skip
BIG_CITY = 300_000  # a city this large is found by a short Cyrillic name too ("Рим", "Осло")


def _script_ok(name: str) -> bool:
    """Latin or Cyrillic only: GeoNames also lists names in scripts nobody types here."""
    return all(
        not ch.isalpha() or unicodedata.name(ch, "").startswith(("LATIN", "CYRILLIC"))
        for ch in name
    )


def _plain(word: str) -> str:
    """Accents the fold does not know dropped: "Moscú" -> "moscu", "Kazanė" -> "kazane"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", fold(word)) if ch.isalnum())


def _stem(token: str) -> str | None:
    """The part Russian endings attach to when the name ends in a vowel or й: Москв-а ->
    Москв-е, Германи-я -> Германи-и, Дуба-й -> Дуба-е (folded, the double letter merges)."""
    stem = token[:-1]
    if token.endswith(("ai", "ei")) and len(stem) >= MIN_NAME:
        return stem
    return stem if token[-1:] in _VOWELS and len(stem) >= STEM_MIN else None


def _texts(translation: Translation) -> list[str]:
    return [*translation.questions, translation.answer]


def _as_named(city: City, match: _Match, typed: list[str]) -> str:
    """The city's name as the reader wrote it, uninflected and in their script: "в Мюнхене"
    shows "Мюнхен", not GeoNames' "Munich" (its alternate names carry no language to pick a
    Russian one by): the listed name closest to what was typed."""
    written = " ".join(typed[match.start : match.start + match.length]).casefold()
    cyrillic = bool(_CYRILLIC_NAME.match(written))
    names = [
        name
        for name in (city.name, *city.alternatenames)
        if bool(_CYRILLIC_NAME.match(name)) == cyrillic
    ]

    def closeness(name: str) -> tuple[bool, int, int]:
        spelt = name.casefold()
        folded = _shared_start(fold(spelt), fold(written))
        return spelt == written, folded, _shared_start(spelt, written)

    return max(names, key=closeness, default=city.name)


def _shared_start(a: str, b: str) -> int:
    pairs = enumerate(zip(a, b, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def _is_voting(word: str) -> bool:
    return word.startswith(_VOTING)


@dataclass(frozen=True)
class Place:
    """A city or a country a text names, with the stations the name points to (none for a
    country without a station); `city` is a GeoNames city without a station of its own
    (in Kazakhstan, HOME, the voter's own)."""

    country: str
    stations: tuple[Station, ...]
    is_city: bool
    city: City | None = None


@dataclass(frozen=True)
class Found:
    places: tuple[Place, ...]
    rest: tuple[str, ...]  # folded words besides the places, function and voting words
    about_voting: bool  # a word such as "vote", "участок", "сайлау" is in the text


@dataclass(frozen=True)
class Nearby:
    station: Station
    km: float


@dataclass(frozen=True)
class VoteStatus:
    vote: Vote
    status: StationStatus | None  # None: the sources say nothing about this vote


@dataclass(frozen=True)
class Hours:
    """The voting window of one station, in Astana time, on one day."""

    day: date
    vote: Vote | None  # the vote held that day; None when the day is just today
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _Match:
    start: int
    length: int
    targets: frozenset[tuple[str, str]]  # ("city", station id), ("country", code), ("geo", id)
    ordinary: bool
    name: tuple[str, ...]


@dataclass
class _Names:
    """Folded names and the targets they point to, with what matching needs of them."""

    names: dict[tuple[str, ...], set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    stems: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    fuzzy: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tokens: set[str] = field(default_factory=set)
    by_first: dict[str, list[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(list))
    inflected: set[str] | None = None  # tokens a case ending may follow; None: all

    def finish(self, stem_tokens: set[str], fuzzy_tokens: set[str]) -> None:
        for name in sorted(self.names, key=len, reverse=True):  # longest names first
            self.by_first[name[0]].append(name)
        self.tokens = {token for name in self.names for token in name}
        for token in stem_tokens:
            if (stem := _stem(token)) is not None:
                self.stems[stem].add(token)
        for token in fuzzy_tokens:
            if len(token) >= FUZZY_MIN:
                self.fuzzy[token[0]].append(token)


_GEONAMES_LOCK = threading.Lock()
_geonames_table: _Names | None = None  # built here, or loaded with the stored indexes


def geonames_names() -> _Names:
    """The table below, built once a process unless the store had it (use_geonames); a caller
    that comes while another builds it waits for that build."""
    global _geonames_table
    with _GEONAMES_LOCK:
        if _geonames_table is None:
            _geonames_table = _geonames_names()
        return _geonames_table


def has_geonames() -> bool:
    return _geonames_table is not None


def use_geonames(table: _Names) -> None:
    """The table as the store kept it: it depends only on the code and GeoNames, which the
    stored indexes' key covers."""
    global _geonames_table
    with _GEONAMES_LOCK:
        if _geonames_table is None:
            _geonames_table = table


@cache
def _geonames_names() -> _Names:
    """Every GeoNames city by its name and, being what people here type, its Cyrillic names
    (short ones only for big cities), the most populous city for a name several share. Built
    once a process: it does not depend on the content."""
    table = _Names()
    best: dict[tuple[str, ...], City] = {}
    for city in all_cities():
        names = [(city.name, MIN_NAME)]
        shortest = 3 if city.population >= BIG_CITY else ALTERNATE_MIN
        names += [(n, shortest) for n in city.alternatenames if _CYRILLIC_NAME.fullmatch(n)]
        for name, minimum in names:
            tokens = tuple(_plain(w) for w in words(_PARENS.sub("", name)))
            letters = "".join(tokens)
            if len(letters) < minimum or not letters.isascii() or letters in STOPWORDS:
                continue
            known = best.get(tokens)
            if known is None or known.population < city.population:
                best[tokens] = city
    for tokens, city in best.items():
        table.names[tokens].add(("geo", str(city.geonameid)))
    # Only big cities' names with a case ending (в Канберре, Мюнхенде): a small town's name
    # with one is too often an everyday word with one ("қаласында" is not Kalasin-da).
    table.inflected = {
        token for name, city in best.items() if city.population >= BIG_CITY for token in name
    }
    table.finish(table.inflected, set())
    return table


class StationIndex:
    def __init__(self, content: Content) -> None:
        self.content = content
        self.stations = tuple(content.stations)
        self._by_id = {s.id: s for s in self.stations}
        self._cities: dict[str, City] = {}
        for station in self.stations:
            city = find_city(station.geonameid)
            if city is not None:
                self._cities[station.id] = city
        self._records = {c.country: c for c in content.countries}
        self._table = _Names()
        self._primary: set[str] = set()  # tokens of the names from stations.yaml and CLDR
        self._russian: set[str] = set()  # the same, of the Russian names
        for station in self.stations:
            city = self._cities.get(station.id)
            for lang in LOCALES:
                self._add(station.city.get(lang), ("city", station.id), lang)
            for name in (city.name, *city.alternatenames) if city else ():
                self._add(name, ("city", station.id), None)
        for code in (country_codes() | {s.country for s in self.stations}) - {HOME}:
            for lang in LOCALES:
                self._add(country_name(code, lang), ("country", code), lang)
            self._add(geonames_country_name(code), ("country", code), "en")
        for code, aliases in ALIASES.items():
            for alias in aliases:
                self._add(alias, ("country", code), "ru" if _CYRILLIC_NAME.match(alias) else "en")
        # Stems and typos only for the names people write (stations.yaml, CLDR), not for the
        # thousands of GeoNames spellings, where they would reach ordinary words.
        self._table.finish(self._russian, self._primary)
        # A word our content writes in lower case is an everyday word ("қашан", "рядом", "совет"),
        # not the city abroad of the same name (Kashan, Riyadh, Soweto).
        texts = [t for e in content.faq for lang in LOCALES for t in _texts(e.text(lang))]
        self._everyday = frozenset(
            fold(w) for t in texts for w in _LETTERS.findall(t) if w == w.lower()
        )
        self._latest = self._latest_vote()

    def _add(self, name: str | None, target: tuple[str, str], lang: str | None) -> None:
        """Indexes one name; `lang` None marks one of GeoNames' alternate names."""
        alternate = lang is None
        if not name or not _script_ok(name):
            return
        # Bracketed parts are asides: "Мьянма (Бирма)", "Cocos (Keeling) Islands".
        name = _PARENS.sub("", name)
        tokens = tuple((_plain if alternate else fold)(w) for w in words(name))
        letters = "".join(tokens)
        # GeoNames lists every language's spelling: its short ones ("Kasa" for Kazan, "Soul" for
        # Seoul) are everyday words, and accented ones are typed by nobody here.
        if alternate and (len(letters) < ALTERNATE_MIN or not letters.isascii()):
            return
        # An abbreviation CLDR uses as the name ("ОАЭ", "КНДР", "UK") is no everyday word.
        shortest = 2 if not alternate and len(tokens) == 1 and name.isupper() else MIN_NAME
        if len(letters) >= shortest and not (len(tokens) == 1 and letters in STOPWORDS):
            self._table.names[tokens].add(target)
            if not alternate:
                self._primary.update(tokens)
            if lang == "ru":
                self._russian.update(tokens)

    # --- text ----------------------------------------------------------------------------

    @staticmethod
    def _forms(word: str, table: _Names) -> set[str]:
        """The name tokens a typed word can be: itself, a name with a case ending, a Russian
        stem with one, or a name one typo away."""
        found = {word} & table.tokens
        # Function words only as themselves, inside a longer name ("Bosnia and Herzegovina").
        if len(word) < MIN_NAME or word in STOPWORDS:
            return found
        cores = {word}
        for ending in _ENDINGS:
            if not word.endswith(ending):
                continue
            core = word[: -len(ending)]
            # After a final vowel only a consonant ending follows (Токио-да, not Мали-й).
            if core[-1:] not in _VOWELS or ending[0] not in _VOWELS:
                cores.add(core)
            if ending in _RU_ENDINGS:
                found |= table.stems.get(core, set())
        found |= table.stems.get(word, set())  # Франции: the stem франци alone
        cores = {c for c in cores if len(c) >= MIN_NAME}
        found |= cores & table.tokens
        if table.inflected is not None:
            return (found & table.inflected) | ({word} & table.tokens)
        if not found:
            for core in cores:
                if len(core) >= FUZZY_MIN:
                    matches = process.extract(
                        core,
                        table.fuzzy.get(core[0], []),
                        scorer=Levenshtein.distance,
                        score_cutoff=1,
                        limit=None,
                    )
                    found |= {token for token, _, _ in matches}
        return found

    def _matches(self, folded: list[str], table: _Names) -> list[_Match]:
        """The longest names of `table`, left to right."""
        forms = [self._forms(w, table) for w in folded]
        matches: list[_Match] = []
        i = 0
        while i < len(folded):
            best: _Match | None = None
            for first in forms[i]:
                for name in table.by_first.get(first, ()):
                    n = len(name)
                    if best is not None and n < best.length:
                        break
                    if i + n <= len(folded) and all(name[k] in forms[i + k] for k in range(1, n)):
                        targets = frozenset(table.names[name])
                        if best is not None and best.length == n:
                            targets |= best.targets
                        best = _Match(i, n, targets, " ".join(name) in _ORDINARY, name)
                        break
            if best is None:
                i += 1
            else:
                matches.append(best)
                i += best.length
        return matches

    def find(self, text: str) -> Found:
        """The places a message names, in the order it names them, and what else it says."""
        typed = words(text)
        folded = [fold(w) for w in typed]
        # GeoNames cities after the names of stations and countries, unless longer ("Mexico
        # City" is not Mexico).
        # A small town's name counts only alone, as the everyday words above do.
        geo = [
            replace(m, ordinary=self._geo_city(m).population < BIG_CITY)
            for m in self._matches([_plain(w) for w in typed], geonames_names())
            if not self._everyday_match(m, folded)
        ]
        matches: list[_Match] = []
        covered: set[int] = set()
        for match in sorted(
            [*self._matches(folded, self._table), *geo], key=lambda m: -m.length
        ):  # stable: of two as long, the station's or country's name
            span = set(range(match.start, match.start + match.length))
            if not span & covered:
                matches.append(match)
                covered |= span
        matches.sort(key=lambda m: m.start)
        others = [w for i, w in enumerate(folded) if i not in covered and w not in STOPWORDS]
        others = [w for w in others if not w.startswith(_WHERE)]
        rest = tuple(w for w in others if not _is_voting(w))
        about_voting = len(rest) < len(others)
        if rest:
            matches = [m for m in matches if not m.ordinary]
        places: list[Place] = []
        for match in matches:
            if any(kind == "geo" for kind, _ in match.targets):
                city = self._geo_city(match)
                named = replace(city, name=_as_named(city, match, typed))
                place = Place(city.country, (), True, named)
                if place not in places:
                    places.append(place)
                continue
            for kind, key in sorted(match.targets):
                if kind == "city":
                    station = self._by_id[key]
                    place = Place(station.country, (station,), True)
                else:
                    place = Place(key, self.stations_in(key), False)
                if place not in places:
                    places.append(place)
        # "Istanbul, Turkey": the city says more than its country.
        named_cities = {p.country for p in places if p.is_city}
        places = [p for p in places if p.is_city or p.country not in named_cities]
        return Found(tuple(places), rest, about_voting)

    def _geo_city(self, match: _Match) -> City:
        """The most populous of the GeoNames cities a match names (one word may be the name
        of one and another's with an ending)."""
        cities = [find_city(int(key)) for _, key in match.targets]
        return max((c for c in cities if c is not None), key=lambda c: c.population)

    def _everyday_match(self, match: _Match, folded: list[str]) -> bool:
        """A GeoNames city abroad named by one word our content uses as an everyday word
        (names of several words, "Tel Aviv", "Cape Town", are names)."""
        if match.length > 1 or self._geo_city(match).country == HOME:
            return False
        typed = folded[match.start : match.start + match.length]
        return any(w in self._everyday for w in (*typed, *match.name))

    # --- countries and stations ------------------------------------------------------------

    def station(self, station_id: str) -> Station | None:
        return self._by_id.get(station_id)

    def city(self, station: Station) -> City | None:
        return self._cities.get(station.id)

    def stations_in(self, country: str) -> tuple[Station, ...]:
        return tuple(s for s in self.stations if s.country == country)

    def record(self, country: str) -> StationCountry | None:
        return self._records.get(country)

    def countries(self) -> list[str]:
        """Every country with a station, or with one whose city the sources do not give."""
        return sorted({s.country for s in self.stations} | set(self._records))

    def nearest(
        self, latitude: float, longitude: float, *, limit: int = 3, exclude: str | None = None
    ) -> list[Nearby]:
        found = [
            Nearby(s, distance_km(latitude, longitude, c.latitude, c.longitude))
            for s in self.stations
            if s.country != exclude and (c := self._cities.get(s.id)) is not None
        ]
        return sorted(found, key=lambda n: n.km)[:limit]

    def nearest_to_country(self, country: str, limit: int = 3) -> tuple[list[Nearby], bool]:
        """The stations nearest to a country, in other countries, measured from its capital
        (the flag) or its largest city."""
        reference = country_reference(country)
        if reference is None:
            return [], False
        city, capital = reference
        return self.nearest(city.latitude, city.longitude, limit=limit, exclude=country), capital

    # --- votes and hours -------------------------------------------------------------------

    def _latest_vote(self) -> Vote | None:
        known = {v for r in (*self.stations, *self.content.countries) for v in r.votes}
        votes = [v for v in self.content.votes if v.id in known]
        return max(votes, key=lambda v: v.sort_key) if votes else None

    def statuses(self, votes: dict[str, StationStatus]) -> list[VoteStatus]:
        """The status for the latest vote our sources report on (None when they are silent
        about this station), then the station's own latest known status if that is older."""
        if self._latest is None:
            return []
        lines = [VoteStatus(self._latest, votes.get(self._latest.id))]
        if lines[0].status is None:
            own = [v for v in self.content.votes if v.id in votes]
            if own:
                vote = max(own, key=lambda v: v.sort_key)
                lines.append(VoteStatus(vote, votes[vote.id]))
        return lines

    def voting_day(self, today: date) -> tuple[date, Vote | None]:
        """The next announced vote with an exact date, else today."""
        vote = outlook(self.content, today).upcoming
        if vote is not None and vote.date is not None:
            return vote.date, vote
        return today, None

    def hours(self, station: Station, today: date) -> Hours | None:
        city = self._cities.get(station.id)
        if city is None:
            return None
        day, vote = self.voting_day(today)
        return voting_window(city.timezone, day, vote)

    def seasons(self, station: Station, year: int) -> Seasons | None:
        city = self._cities.get(station.id)
        return None if city is None else seasons(city.timezone, year)


def voting_window(timezone: str, day: date, vote: Vote | None = None) -> Hours:
    """07:00-20:00 in the station's zone on `day`, in Astana time (zoneinfo knows the daylight
    saving rules of that day, so no offset is hard-coded)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, OPENS, zone).astimezone(ASTANA)
    end = datetime.combine(day, CLOSES, zone).astimezone(ASTANA)
    return Hours(day, vote, start, end)


@dataclass(frozen=True)
class Seasons:
    """The voting window on a day of standard time and on a day of summer time."""

    standard: Hours
    summer: Hours


def seasons(timezone: str, year: int) -> Seasons | None:
    """None for a zone whose clock does not change for summer time that year (tzdata knows):
    then the Astana time of the window is the same on any voting day."""
    zone = ZoneInfo(timezone)
    # Mid-January and mid-July: one is summer time in either hemisphere, if the zone has any.
    days = (date(year, 1, 15), date(year, 7, 15))
    summer = [d for d in days if datetime.combine(d, OPENS, zone).dst()]
    if not summer:
        return None
    standard = next(d for d in days if d not in summer)
    return Seasons(voting_window(timezone, standard), voting_window(timezone, summer[0]))


def point_country(latitude: float, longitude: float) -> str | None:
    """The country a shared location is most likely in, or None far from any town."""
    city, km = nearest_city(latitude, longitude)
    return city.country if km <= NEAR_CITY_KM else None
