"""Match modes of the capability search (issue 10, items 1 and 2): exact, words, fuzzy.

These run on the machine's PostgreSQL and, in ``make test``, again on the embedded server
(``SPRINTCONNECT_TEST_PG=embedded``); the tables pin every name, reason and score, so both
databases must give the very same answers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.conftest import Seed, search
from tests.conftest import Tenant, TenantFactory, assert_problem


@pytest.fixture
async def words_org(make_tenant: TenantFactory, seed: Seed) -> Tenant:
    tenant = await make_tenant()
    await seed(
        tenant,
        "forecasts",
        {"get_weather_forecast": "Forecast for the next days", "list_cities": "Cities we know"},
    )
    await seed(tenant, "camel", {"getWeatherForecast": "Predicts tomorrow"})
    await seed(tenant, "alerts", {"weather-alerts": "Severe storm warnings"})
    await seed(tenant, "mail", {"send_email": "Send a message about the weather"})
    await seed(tenant, "calc", {"add": "Adds two numbers", "echo": "Echoes back the input"})
    await seed(tenant, "sundial", {"weatherproof": "Keeps things dry"})
    return tenant


def outcome(response: httpx.Response) -> list[tuple[str, float, list[tuple[str, str, float]]]]:
    """Each server with its score, and each matched capability with its reason and score."""
    assert response.status_code == 200, response.text
    return [
        (
            r["server"]["name"],
            r["score"],
            [(c["name"], c["matched_on"], c["score"]) for c in r["capabilities"]],
        )
        for r in response.json()["items"]
    ]


# (query, expected outcome): the same on every database.
CASES: list[tuple[dict[str, Any], list[tuple[str, float, list[tuple[str, str, float]]]]]] = [
    (
        {"capability": "weather"},
        [
            ("alerts", 0.8, [("weather-alerts", "name", 0.8)]),
            ("camel", 0.7333, [("getWeatherForecast", "name", 0.7333)]),
            ("forecasts", 0.7333, [("get_weather_forecast", "name", 0.7333)]),
            ("mail", 0.3182, [("send_email", "description", 0.3182)]),
        ],
    ),
    (
        {"capability": "forecasts", "match": "words"},
        [("forecasts", 0.3182, [("get_weather_forecast", "description", 0.3182)])],
    ),
    (
        {"capability": "getWeather"},
        [
            ("camel", 0.8667, [("getWeatherForecast", "name", 0.8667)]),
            ("forecasts", 0.8667, [("get_weather_forecast", "name", 0.8667)]),
        ],
    ),
    (
        {"capability": "weather,forecast"},
        [
            (
                "camel",
                0.7333,
                [("getWeatherForecast", "name", 0.7333), ("getWeatherForecast", "name", 0.7333)],
            ),
            (
                "forecasts",
                0.7333,
                [
                    ("get_weather_forecast", "name", 0.7333),
                    ("get_weather_forecast", "name", 0.7333),
                ],
            ),
        ],
    ),
    (
        {"capability": "numbers"},
        [("calc", 0.3182, [("add", "description", 0.3182)])],
    ),
    # The two disagreements: one answer now, from the same SQL on every database.
    (
        {"capability": "numbers", "match": "fuzzy"},
        [("calc", 0.6, [("add", "description", 0.6)])],
    ),
    ({"capability": "ecko", "match": "fuzzy"}, []),
    (
        {"capability": "weather", "match": "fuzzy"},
        [
            # Trigram word similarity is 1.0 for a whole word of the name; a substring is 0.9.
            ("alerts", 1.0, [("weather-alerts", "name", 1.0)]),
            ("forecasts", 1.0, [("get_weather_forecast", "name", 1.0)]),
            ("camel", 0.9, [("getWeatherForecast", "name", 0.9)]),
            ("sundial", 0.9, [("weatherproof", "name", 0.9)]),
            ("mail", 0.6, [("send_email", "description", 0.6)]),
        ],
    ),
    ({"capability": "weather", "match": "exact"}, []),
    (
        {"capability": "weather-alerts", "match": "exact"},
        [("alerts", 1.0, [("weather-alerts", "name", 1.0)])],
    ),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[str(c[0]) for c in CASES])
async def test_every_mode_gives_the_pinned_answer(
    client: httpx.AsyncClient,
    words_org: Tenant,
    params: dict[str, Any],
    expected: list[tuple[str, float, list[tuple[str, str, float]]]],
) -> None:
    assert outcome(await search(client, words_org, **params)) == expected


async def test_words_is_the_default_and_says_so(
    client: httpx.AsyncClient, words_org: Tenant
) -> None:
    body = (await search(client, words_org, capability="weather")).json()
    assert body["search"]["query"] == {
        "capabilities": ["weather"],
        "kind": "tool",
        "match": "words",
    }
    assert body["search"]["fuzzy_engine"] == "none"
    scores = [r["score"] for r in body["items"]]
    assert scores == sorted(scores, reverse=True)
    # "weatherproof" is one word, not "weather": only the fuzzy mode finds substrings.
    assert "sundial" not in {r["server"]["name"] for r in body["items"]}


@pytest.mark.parametrize("match", ["exact", "words", "fuzzy"])
async def test_several_capabilities_must_all_match_in_every_mode(
    client: httpx.AsyncClient, words_org: Tenant, match: str
) -> None:
    both = "add,echo"
    found = await search(client, words_org, capability=both, match=match)
    assert [name for name, _score, _caps in outcome(found)] == ["calc"]
    one_missing = await search(client, words_org, capability="add,weatherproof", match=match)
    assert outcome(one_missing) == []


async def test_fuzzy_flag_is_a_deprecated_alias(
    client: httpx.AsyncClient, words_org: Tenant
) -> None:
    alias = await search(client, words_org, capability="wether", fuzzy="true")
    mode = await search(client, words_org, capability="wether", match="fuzzy")
    assert outcome(alias) == outcome(mode)
    assert {name for name, _s, _c in outcome(mode)} >= {"alerts", "forecasts"}
    assert alias.json()["search"]["query"]["match"] == "fuzzy"
    off = await search(client, words_org, capability="weather", fuzzy="false")
    assert off.json()["search"]["query"]["match"] == "exact"
    assert outcome(off) == []
    agreed = await search(client, words_org, capability="wether", fuzzy="true", match="fuzzy")
    assert outcome(agreed) == outcome(mode)
    problem = assert_problem(
        await search(client, words_org, capability="weather", fuzzy="true", match="words"), 422
    )
    assert problem["errors"][0]["loc"] == ["query", "fuzzy"]


@pytest.mark.parametrize(
    "params",
    [
        {"capability": "weather", "match": "nearly"},
        {"capability": "weather", "match": ""},
        {"capability": "weather", "fuzzy": "false", "match": "fuzzy"},
    ],
)
async def test_bad_match_values_are_422(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
) -> None:
    assert_problem(await search(client, tenant, **params), 422)


async def test_a_term_without_words_matches_nothing(
    client: httpx.AsyncClient, words_org: Tenant
) -> None:
    assert outcome(await search(client, words_org, capability="__")) == []


async def test_openapi_marks_fuzzy_deprecated(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/discovery/servers"]["get"]["parameters"]}
    assert params["fuzzy"].get("deprecated") is True
    assert params["match"]["schema"]["anyOf"][0]["enum"] == ["exact", "words", "fuzzy"]
