"""The fuzzy search's shortcut: names that cannot reach the similarity threshold skip it.

``similarity_prefilter`` claims that a name holding none of a term's inner trigrams scores
below the threshold. The database check compares that claim with pg_trgm's own
``word_similarity`` over every pair of a vocabulary of names and terms (typos included), on
the machine's PostgreSQL and, in ``make test``, on the embedded one.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from sprintconnect.catalog.repository import similarity_prefilter
from sprintconnect.catalog.service import FUZZY_THRESHOLD
from sprintconnect.runtime import Runtime
from tests.catalog.conftest import Seed, search
from tests.conftest import TenantFactory

NAMES = [
    "get_weather_forecast",
    "getWeatherForecast",
    "weather-alerts",
    "weatherproof",
    "list_calendar_events",
    "send_email",
    "create_ticket",
    "search_documents",
    "get_current_weather",
    "whether_or_not",
    "the_other_weather",
    "aaaaaaaa",
    "repository_stats",
    "café_menu",
    "WEATHER",
    "w",
    "",
]
TERMS = [
    "weather",
    "wether",
    "weathr",
    "wheather",
    "calender",
    "calendar",
    "emial",
    "ticket",
    "tickt",
    "documnet",
    "repositry",
    "aaaaaaa",
    "forecasts",
    "get_weather",
    "café",
    "ab",
]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # Eight unique trigrams: three shared padded ones score at most 3/8.
        ("weather", "%ath% %eat% %her% %the% %wea%"),
        ("wether", "%eth% %her% %the% %wet%"),
        # Six trigrams: the three padded ones alone may reach 0.5, so every name is scored.
        ("tickt", None),
        # "  a", " aa", "aaa", "aa ": repeated trigrams count once.
        ("aaaaaaa", None),
        # Several words, or characters pg_trgm may hash: no shortcut.
        ("get_weather", None),
        ("send email", None),
        ("café", None),
        ("Weather", None),
    ],
)
def test_prefilter_patterns(term: str, expected: str | None) -> None:
    assert similarity_prefilter(term, FUZZY_THRESHOLD) == expected


def test_a_higher_threshold_allows_shorter_terms() -> None:
    assert similarity_prefilter("tickt", FUZZY_THRESHOLD) is None
    assert similarity_prefilter("tickt", 0.6) == "%ckt% %ick% %tic%"


async def test_names_the_shortcut_skips_never_reach_the_threshold(runtime: Runtime) -> None:
    async with runtime.db.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT t.t, n.n, word_similarity(t.t, lower(n.n)) AS ws, "
                    "octet_length(n.n) <> char_length(n.n) AS multibyte "
                    "FROM unnest(CAST(:terms AS text[])) AS t(t) "
                    "CROSS JOIN unnest(CAST(:names AS text[])) AS n(n)"
                ),
                {"terms": TERMS, "names": NAMES},
            )
        ).all()
    skipped = 0
    for term, name, similarity, multibyte in rows:
        patterns = similarity_prefilter(term, FUZZY_THRESHOLD)
        if patterns is None or multibyte:
            continue
        inner = [p.strip("%") for p in patterns.split(" ")]
        if not any(gram in name.lower() for gram in inner):
            skipped += 1
            assert similarity < FUZZY_THRESHOLD, (term, name, similarity)
    assert skipped > 50  # the check covered the shortcut, not only names it scores


async def test_typos_still_match_through_the_shortcut(
    client: httpx.AsyncClient, make_tenant: TenantFactory, seed: Seed
) -> None:
    tenant = await make_tenant()
    await seed(tenant, "forecasts", {"get_weather_forecast": "Forecast for the next days"})
    await seed(tenant, "other", {"whether_or_not": "Decides", "list_items": "Lists items"})
    await seed(tenant, "accents", {"météo_wether": "Prévisions"})
    body = (await search(client, tenant, capability="wether", match="fuzzy")).json()
    found = {r["server"]["name"]: r["capabilities"][0]["name"] for r in body["items"]}
    # "whether" holds "the" and "her" of "wether", so it is scored (and is close enough); a
    # name with accents is scored whatever it holds.
    assert found == {
        "forecasts": "get_weather_forecast",
        "other": "whether_or_not",
        "accents": "météo_wether",
    }
