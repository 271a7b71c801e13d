"""The crisis-resource directory: data checks, lookups, suggestions, rendering, validation."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from safety import resources
from safety.resources import (
    INTERNATIONAL,
    CountryResources,
    ResourceDataError,
    ResourceKind,
    UnknownCountry,
    countries,
    format_text,
    load_directory,
    lookup,
    resolve_country,
    suggest_country,
)

REQUIRED_COUNTRIES = (
    *("US", "CA", "GB", "IE", "AU", "NZ", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "ES", "PT"),
    *("IT", "MX", "AR", "CO", "CL", "PE", "BR", "IN", "ZA", "JP", "KR", "SE", "NO", "DK", "FI"),
    "PL",
)
ALL_ENTRIES = (*countries(), lookup(None))
ALL_RESOURCES = [
    pytest.param(resource, id=f"{entry.code}-{resource.name}")
    for entry in ALL_ENTRIES
    for resource in entry.resources
]


def test_directory_covers_at_least_thirty_countries_and_the_required_ones() -> None:
    codes = {entry.code for entry in countries()}
    assert len(codes) >= 30
    assert set(REQUIRED_COUNTRIES) <= codes


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.code)
def test_every_country_has_emergency_crisis_and_domestic_violence_lines(
    entry: CountryResources,
) -> None:
    for kind in (ResourceKind.EMERGENCY, ResourceKind.CRISIS_LINE, ResourceKind.DOMESTIC_VIOLENCE):
        assert entry.of_kind(kind), f"{entry.code} has no {kind.value}"
    assert entry.emergency.phone


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_every_resource_has_a_web_source_and_a_checked_date(resource: resources.Resource) -> None:
    assert resource.source.startswith(("https://", "http://"))
    assert isinstance(resource.checked, date)
    assert resource.phone or resource.text or resource.chat_url or resource.website


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_every_phone_uses_only_digits_spaces_plus_and_dash(resource: resources.Resource) -> None:
    if resource.phone is not None:
        assert re.fullmatch(r"\*?[0-9+][0-9 +\-]*", resource.phone)


def test_well_known_numbers_are_where_they_belong() -> None:
    assert lookup("US").emergency.phone == "911"
    assert lookup("GB").emergency.phone == "999"
    assert lookup("AU").emergency.phone == "000"
    assert lookup("NZ").emergency.phone == "111"
    assert "988" in phones(lookup("US"), ResourceKind.CRISIS_LINE)
    assert "116 123" in phones(lookup("GB"), ResourceKind.CRISIS_LINE)
    assert "116 016" in phones(lookup("DE"), ResourceKind.DOMESTIC_VIOLENCE)
    assert "3919" in phones(lookup("FR"), ResourceKind.DOMESTIC_VIOLENCE)
    assert "016" in phones(lookup("ES"), ResourceKind.DOMESTIC_VIOLENCE)
    assert "0800 1111" in phones(lookup("GB"), ResourceKind.CHILD_HELPLINE)
    texts = [resource.text for resource in lookup("US").of_kind(ResourceKind.TEXT_LINE)]
    assert "Text HOME to 741741" in texts


def phones(entry: CountryResources, kind: ResourceKind) -> list[str | None]:
    return [resource.phone for resource in entry.of_kind(kind)]


@pytest.mark.parametrize(
    "query", ["DE", "de", " de ", "Germany", "deutschland", "alemania", "allemagne"]
)
def test_germany_is_found_by_code_or_name_in_four_languages(query: str) -> None:
    assert lookup(query).code == "DE"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("uk", "GB"),
        ("England", "GB"),
        ("Royaume-Uni", "GB"),
        ("usa", "US"),
        ("United States", "US"),
        ("U.S.A.", "US"),
        ("España", "ES"),
        ("espana", "ES"),
        ("  ESPAÑA ", "ES"),
        ("Österreich", "AT"),
        ("osterreich", "AT"),
        ("Schweiz", "CH"),
        ("suisse", "CH"),
        ("méxico", "MX"),
        ("Brésil", "BR"),
        ("Südafrika", "ZA"),
        ("no", "NO"),
        ("int", INTERNATIONAL),
    ],
)
def test_lookup_accepts_aliases_case_spaces_and_missing_accents(query: str, code: str) -> None:
    assert lookup(query).code == code


@pytest.mark.parametrize("query", [None, "", "   "])
def test_no_country_means_the_international_list(query: str | None) -> None:
    entry = lookup(query)
    assert entry.code == INTERNATIONAL
    assert entry.is_international


def test_unknown_country_raises_with_a_close_suggestion() -> None:
    with pytest.raises(UnknownCountry) as caught:
        lookup("Germny")
    assert "Germany (DE)" in str(caught.value)


def test_unknown_country_without_close_match_lists_known_codes() -> None:
    with pytest.raises(UnknownCountry) as caught:
        lookup("narnia")
    message = str(caught.value)
    assert "'narnia'" in message and "DE" in message and "US" in message
    assert "Did you mean" not in message


def test_resolve_country_returns_a_code_or_none() -> None:
    assert resolve_country("Deutschland") == "DE"
    assert resolve_country("  japon ") == "JP"
    assert resolve_country("atlantis") is None


def test_countries_are_sorted_by_name_and_leave_out_the_international_list() -> None:
    listed = countries()
    names = [entry.name for entry in listed]
    assert names == sorted(names, key=str.casefold)
    assert INTERNATIONAL not in {entry.code for entry in listed}


@pytest.mark.parametrize(
    ("language_code", "code"),
    [
        ("de-AT", "AT"),
        ("de_at", "AT"),
        ("en-GB", "GB"),
        ("pt-BR", "BR"),
        ("fr-CA", "CA"),
        ("ja", "JP"),
        ("es", None),
        ("en", None),
        ("de", None),
        ("es-419", None),
        ("uk", None),
        ("", None),
        (None, None),
    ],
)
def test_suggest_country_uses_the_region_or_an_unambiguous_language(
    language_code: str | None, code: str | None
) -> None:
    assert suggest_country(language_code) == code


def test_to_json_is_plain_data_with_sources_and_iso_dates() -> None:
    data = lookup("de").to_json()
    round_trip = json.loads(json.dumps(data))
    assert round_trip == data
    assert data["code"] == "DE" and data["emergency"] == "112"
    entries = data["resources"]
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert entry["kind"] in {kind.value for kind in ResourceKind}
        assert entry["source"].startswith("http")
        assert date.fromisoformat(entry["checked"])


def test_format_text_puts_the_emergency_number_before_every_line() -> None:
    text = format_text(lookup("GB"))
    lines = [line for line in text.splitlines() if line.strip()]
    assert "United Kingdom" in lines[0]
    assert "999" in lines[1]
    assert text.index("999") < text.index("116 123") < text.index("0808 2000 247")
    assert "Samaritans" in text and "https://" in text


def test_format_text_groups_lines_by_kind_in_a_fixed_order() -> None:
    text = format_text(lookup("DE"))
    order = [
        text.index("TelefonSeelsorge"),
        text.index("krisenchat"),
        text.index("Hilfetelefon Gewalt"),
        text.index("Hilfe-Telefon Sexueller"),
        text.index("Nummer gegen Kummer"),
    ]
    assert order == sorted(order)


def test_international_text_says_there_is_no_single_emergency_number() -> None:
    text = format_text(lookup(None))
    assert "no single emergency number" in text
    assert "findahelpline.com" in text


def test_the_bundled_directory_is_loaded_once() -> None:
    assert resources.default_directory() is resources.default_directory()


# Validation: a file with a mistake must not load, and the error must say where.


def minimal_data() -> dict[str, Any]:
    bundled = yaml.safe_load(resources.DEFAULT_PATH.read_text(encoding="utf-8"))
    line = {"source": "https://example.org/checked", "checked": "2026-11-25"}
    return {
        "labels": bundled["labels"],
        "countries": [
            {
                "code": "INT",
                "name": "International",
                "names": ["international"],
                "languages": [],
                "resources": [
                    {"kind": "emergency", "name": "Local emergency", "phone": "112", **line},
                    {"kind": "crisis_line", "name": "Finder", "website": "https://x.org", **line},
                    {
                        "kind": "domestic_violence",
                        "name": "DV",
                        "website": "https://y.org",
                        **line,
                    },
                ],
            },
            {
                "code": "XA",
                "name": "Exampleland",
                "names": ["exampleland", "beispielland"],
                "languages": ["xx"],
                "resources": [
                    {"kind": "emergency", "name": "Emergency", "phone": "112", **line},
                    {"kind": "crisis_line", "name": "Crisis Line", "phone": "0800 111", **line},
                    {"kind": "domestic_violence", "name": "DV Line", "phone": "+49 30-1", **line},
                ],
            },
        ],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "resources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_for(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ResourceDataError) as caught:
        load_directory(write(tmp_path, data))
    return str(caught.value)


def test_a_valid_minimal_file_loads(tmp_path: Path) -> None:
    directory = load_directory(write(tmp_path, minimal_data()))
    assert directory.countries["XA"].emergency.phone == "112"
    assert directory.aliases["beispielland"] == "XA"


def test_a_resource_without_source_is_rejected_by_name(tmp_path: Path) -> None:
    data = minimal_data()
    del data["countries"][1]["resources"][1]["source"]
    message = problems_for(tmp_path, data)
    assert "XA resource 'Crisis Line'" in message and "source" in message
    assert re.search(r"resources\.yaml:\d+:", message)


def test_a_resource_without_checked_date_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    del data["countries"][1]["resources"][2]["checked"]
    assert "'DV Line': `checked` is missing" in problems_for(tmp_path, data)


def test_an_unreadable_checked_date_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    data["countries"][1]["resources"][2]["checked"] = "last week"
    assert "must be a date" in problems_for(tmp_path, data)


def test_an_unknown_kind_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    data["countries"][1]["resources"].append(
        {**copy.deepcopy(data["countries"][1]["resources"][1]), "kind": "hotline"}
    )
    assert "unknown kind 'hotline'" in problems_for(tmp_path, data)


@pytest.mark.parametrize("phone", ["1-800-TALK", "(030) 123", "112 ext. 4", "0800#1"])
def test_a_phone_with_letters_or_brackets_is_rejected(tmp_path: Path, phone: str) -> None:
    data = minimal_data()
    data["countries"][1]["resources"][1]["phone"] = phone
    assert f"phone {phone!r} may contain only digits" in problems_for(tmp_path, data)


def test_an_unquoted_phone_number_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, minimal_data())
    path.write_text(path.read_text(encoding="utf-8").replace("phone: '112'", "phone: 112"))
    with pytest.raises(ResourceDataError, match="put phone numbers in quotes"):
        load_directory(path)


@pytest.mark.parametrize("kind", ["emergency", "crisis_line", "domestic_violence"])
def test_a_country_missing_a_required_kind_is_rejected(tmp_path: Path, kind: str) -> None:
    data = minimal_data()
    country = data["countries"][1]
    country["resources"] = [entry for entry in country["resources"] if entry["kind"] != kind]
    assert f"country XA: needs at least one {kind} resource" in problems_for(tmp_path, data)


def test_a_missing_international_list_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    del data["countries"][0]
    assert "international list (INT) is missing" in problems_for(tmp_path, data)


def test_a_name_used_by_two_countries_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    data["countries"][0]["names"].append("Exampleland")
    assert "already used by" in problems_for(tmp_path, data)


def test_a_misspelt_field_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    data["countries"][1]["resources"][1]["phnoe"] = "0800"
    assert "unknown field 'phnoe'" in problems_for(tmp_path, data)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = minimal_data()
    del data["countries"][1]["resources"][1]["source"]
    data["countries"][1]["resources"][2]["phone"] = "call us"
    error = pytest.raises(ResourceDataError, load_directory, write(tmp_path, data)).value
    assert len(error.problems) == 2
