"""Crisis and concern responses: paths, order of resources, safe wording, languages, fallback."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from safety.assessment import Assessment, Category, Level, Match
from safety.resources import CountryResources, Resource, ResourceKind
from safety.responses import (
    DATA_DIR,
    MAX_MESSAGE_LENGTH,
    SCHEMA,
    ChoiceId,
    Response,
    ResponseDataError,
    ResponsePath,
    choose_path,
    load_responses,
    phrasebook,
    respond,
)

LANGUAGES = ("en", "es", "de", "fr")

# Distinct fake numbers, none a substring of another, so positions in the text are unambiguous.
EMERGENCY = "9119"
CRISIS = "0800 123 456"
TEXT = "Text TALK to 55501"
DV = "0800 222 333"
DV_CHAT = "https://dv.example/chat"
SV = "0800 444 555"
CHILD = "0800 777 888"
CHILD_CHAT = "https://kids.example/chat"


def _resource(
    kind: ResourceKind,
    name: str,
    phone: str | None = None,
    *,
    text: str | None = None,
    chat_url: str | None = None,
    website: str | None = None,
    hours: str | None = None,
) -> Resource:
    return Resource(
        kind, name, phone, text, chat_url, website, hours, "https://example.org", date(2026, 1, 1)
    )


def _country(*resources: Resource, code: str = "XA") -> CountryResources:
    return CountryResources(code, "Testland", resources)


FULL = _country(
    _resource(ResourceKind.EMERGENCY, "Emergency services", EMERGENCY),
    _resource(ResourceKind.CRISIS_LINE, "Listening Line", CRISIS, hours="24/7"),
    _resource(ResourceKind.TEXT_LINE, "Text Line", text=TEXT),
    _resource(ResourceKind.DOMESTIC_VIOLENCE, "Home Safe", DV, chat_url=DV_CHAT),
    _resource(ResourceKind.SEXUAL_VIOLENCE, "Assault Support", SV),
    _resource(ResourceKind.CHILD_HELPLINE, "Kids Line", CHILD, chat_url=CHILD_CHAT),
)

# One representative assessment per path, as the detector would categorise it.
PATH_CASES = {
    ResponsePath.SUICIDE_RISK: (Level.CRISIS, (Category.SUICIDE,)),
    ResponsePath.SELF_HARM: (Level.CRISIS, (Category.SELF_HARM,)),
    ResponsePath.MEDICAL: (Level.CRISIS, (Category.MEDICAL, Category.SUICIDE)),
    ResponsePath.DANGER_FROM_OTHER: (Level.CRISIS, (Category.DANGER_FROM_OTHER,)),
    ResponsePath.CHILD_AT_RISK: (Level.CRISIS, (Category.CHILD_ABUSE,)),
    ResponsePath.SOMEONE_ELSE: (Level.CRISIS, (Category.OTHER_AT_RISK, Category.SUICIDE)),
    ResponsePath.CONCERN: (Level.CONCERN, (Category.PASSIVE_IDEATION,)),
}


def _assessment(
    level: Level,
    categories: tuple[Category, ...],
    language: str = "en",
    phrases: tuple[str, ...] = (),
) -> Assessment:
    matches = tuple(
        Match(f"rule_{i}", level, categories, language, phrase) for i, phrase in enumerate(phrases)
    )
    return Assessment(level, categories, language, matches)


def _respond(
    path: ResponsePath,
    language: str = "en",
    country: CountryResources = FULL,
    *,
    has_safety_plan: bool = False,
    phrases: tuple[str, ...] = (),
) -> Response:
    level, categories = PATH_CASES[path]
    response = respond(
        _assessment(level, categories, language, phrases),
        country,
        language,
        has_safety_plan=has_safety_plan,
    )
    assert response is not None
    return response


def _text(response: Response) -> str:
    return "\n".join(response.messages)


def _resource_lines(response: Response) -> list[str]:
    return [line for line in _text(response).split("\n") if line.startswith("•")]


ALL_PATHS = list(ResponsePath)
EVERY_PATH_AND_LANGUAGE = [(path, language) for path in ALL_PATHS for language in LANGUAGES]


# Choosing the path


def test_level_none_gets_no_response() -> None:
    assessment = _assessment(Level.NONE, ())
    assert respond(assessment, FULL, "en") is None
    assert choose_path(assessment) is None


@pytest.mark.parametrize(
    ("level", "categories", "path"),
    [
        (Level.CRISIS, (Category.SUICIDE,), ResponsePath.SUICIDE_RISK),
        (Level.CRISIS, (Category.METHOD_SEEKING, Category.DISTRESS), ResponsePath.SUICIDE_RISK),
        (Level.CRISIS, (Category.PASSIVE_IDEATION,), ResponsePath.SUICIDE_RISK),
        (Level.CRISIS, (Category.SELF_HARM,), ResponsePath.SELF_HARM),
        (Level.CRISIS, (Category.SELF_HARM, Category.SUICIDE), ResponsePath.SUICIDE_RISK),
        (Level.CRISIS, (Category.SUICIDE, Category.MEDICAL), ResponsePath.MEDICAL),
        (Level.CRISIS, (Category.DANGER_FROM_OTHER,), ResponsePath.DANGER_FROM_OTHER),
        (Level.CRISIS, (Category.SEXUAL_VIOLENCE,), ResponsePath.DANGER_FROM_OTHER),
        (
            Level.CRISIS,
            (Category.DANGER_FROM_OTHER, Category.SUICIDE),
            ResponsePath.DANGER_FROM_OTHER,
        ),
        (
            Level.CRISIS,
            (Category.CHILD_ABUSE, Category.DANGER_FROM_OTHER),
            ResponsePath.CHILD_AT_RISK,
        ),
        (Level.CRISIS, (Category.OTHER_AT_RISK, Category.SUICIDE), ResponsePath.SOMEONE_ELSE),
        (Level.CRISIS, (Category.OTHER_AT_RISK, Category.MEDICAL), ResponsePath.SOMEONE_ELSE),
        (Level.CRISIS, (Category.DISTRESS,), ResponsePath.SUICIDE_RISK),
        (Level.CONCERN, (Category.PASSIVE_IDEATION,), ResponsePath.CONCERN),
        (Level.CONCERN, (Category.DISTRESS,), ResponsePath.CONCERN),
        (Level.CONCERN, (Category.SELF_HARM,), ResponsePath.CONCERN),
        (Level.CONCERN, (Category.OTHER_AT_RISK, Category.DISTRESS), ResponsePath.SOMEONE_ELSE),
        (Level.CONCERN, (Category.DANGER_FROM_OTHER,), ResponsePath.DANGER_FROM_OTHER),
    ],
)
def test_path_is_chosen_by_category_and_level(
    level: Level, categories: tuple[Category, ...], path: ResponsePath
) -> None:
    response = respond(_assessment(level, categories), FULL, "en")
    assert response is not None
    assert (response.path, response.level) == (path, level)


def test_own_risk_in_another_match_wins_over_worry_for_someone_else() -> None:
    about_sister = Match(
        "other", Level.CRISIS, (Category.OTHER_AT_RISK, Category.SUICIDE), "en", "x"
    )
    about_self = Match("self", Level.CRISIS, (Category.SUICIDE,), "en", "y")
    categories = (Category.OTHER_AT_RISK, Category.SUICIDE)
    both = Assessment(Level.CRISIS, categories, "en", (about_sister, about_self))
    only_sister = Assessment(Level.CRISIS, categories, "en", (about_sister,))
    assert choose_path(both) is ResponsePath.SUICIDE_RISK
    assert choose_path(only_sister) is ResponsePath.SOMEONE_ELSE


# Order of resources


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", [ResponsePath.SUICIDE_RISK, ResponsePath.SELF_HARM])
def test_suicide_risk_lists_local_lines_before_the_emergency_number(
    path: ResponsePath, language: str
) -> None:
    text = _text(_respond(path, language))
    assert -1 < text.index(CRISIS) < text.index(EMERGENCY)
    assert text.index(TEXT) < text.index(EMERGENCY)


@pytest.mark.parametrize("language", LANGUAGES)
def test_danger_leads_with_emergency_number_then_domestic_violence_line(language: str) -> None:
    text = _text(_respond(ResponsePath.DANGER_FROM_OTHER, language))
    assert -1 < text.index(EMERGENCY) < text.index(DV) < text.index(CRISIS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_medical_first_message_gives_the_emergency_number_then_the_crisis_line(
    language: str,
) -> None:
    response = _respond(ResponsePath.MEDICAL, language)
    assert EMERGENCY in response.messages[0]
    assert CRISIS not in response.messages[0]
    assert CRISIS in _text(response)


# Danger from another person


@pytest.mark.parametrize("language", LANGUAGES)
def test_danger_asks_the_safety_question_once_and_mentions_hide(language: str) -> None:
    text = _text(_respond(ResponsePath.DANGER_FROM_OTHER, language))
    question = phrasebook(language).say("danger_from_other.question")
    assert text.count(question) == 1
    assert text.count("?") == 1
    assert "/hide" in text


def test_danger_lists_chat_before_phone_and_quiet_lines_first() -> None:
    country = _country(
        _resource(ResourceKind.EMERGENCY, "Emergency services", EMERGENCY),
        _resource(ResourceKind.DOMESTIC_VIOLENCE, "Calls Only", "0800 999 000"),
        _resource(ResourceKind.DOMESTIC_VIOLENCE, "Home Safe", DV, chat_url=DV_CHAT),
    )
    lines = _resource_lines(_respond(ResponsePath.DANGER_FROM_OTHER, country=country))
    assert "Home Safe" in lines[0] and "Calls Only" in lines[1]
    assert lines[0].index(DV_CHAT) < lines[0].index(DV)


def test_sexual_violence_adds_the_sexual_violence_line() -> None:
    categories = (Category.DANGER_FROM_OTHER, Category.SEXUAL_VIOLENCE)
    with_sv = respond(_assessment(Level.CRISIS, categories), FULL, "en")
    without_sv = _respond(ResponsePath.DANGER_FROM_OTHER)
    assert with_sv is not None
    assert SV in _text(with_sv) and DV in _text(with_sv)
    assert SV not in _text(without_sv)


# Children and people worried about someone else


@pytest.mark.parametrize("language", LANGUAGES)
def test_child_path_lists_the_child_helpline_first(language: str) -> None:
    response = _respond(ResponsePath.CHILD_AT_RISK, language)
    lines = _resource_lines(response)
    assert CHILD in lines[0]
    assert lines[0].index(CHILD_CHAT) < lines[0].index(CHILD)
    assert _text(response).index(CHILD) < _text(response).index(EMERGENCY)
    assert DV not in _text(response)


def test_child_path_falls_back_to_the_crisis_line_without_a_child_helpline() -> None:
    country = _country(
        _resource(ResourceKind.EMERGENCY, "Emergency services", EMERGENCY),
        _resource(ResourceKind.CRISIS_LINE, "Listening Line", CRISIS),
    )
    lines = _resource_lines(_respond(ResponsePath.CHILD_AT_RISK, country=country))
    assert CRISIS in lines[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_someone_else_path_speaks_to_the_helper(language: str) -> None:
    response = _respond(ResponsePath.SOMEONE_ELSE, language)
    book = phrasebook(language)
    text = _text(response)
    assert book.say("someone_else.helper") in text
    assert CRISIS in text and EMERGENCY in text
    assert book.say("suicide_risk.question") not in text


def test_someone_else_gets_the_specialist_line_for_what_that_person_faces() -> None:
    categories = (Category.OTHER_AT_RISK, Category.DANGER_FROM_OTHER)
    response = respond(_assessment(Level.CRISIS, categories), FULL, "en")
    assert response is not None and response.path is ResponsePath.SOMEONE_ELSE
    lines = _resource_lines(response)
    assert DV in lines[0]


# Safe wording

MATCHED_PHRASES = {
    "en": (
        "kill myself",
        "end it all",
        "want to die",
        "took all my pills",
        "overdose",
        "cut myself",
        "hang myself",
        "jump off",
        "better off without me",
        "sleep and never wake up",
        "unalive",
        "kms",
        "he has a knife",
        "going to kill me",
        "raped",
        "hits me",
        "end it tonight",
        "bleeding",
    ),
    "es": (
        "quiero morir",
        "matarme",
        "pastillas",
        "cortarme",
        "suicidarme",
        "acabar con todo",
        "me pega",
        "cuchillo",
        "desaparecer",
    ),
    "de": (
        "umbringen",
        "nicht mehr leben",
        "tabletten",
        "ritzen",
        "schluss machen",
        "schlägt mich",
        "messer",
        "will sterben",
    ),
    "fr": (
        "me tuer",
        "en finir",
        "médicaments",
        "me couper",
        "mourir",
        "me frappe",
        "couteau",
        "me suicider",
    ),
}


@pytest.mark.parametrize(("path", "language"), EVERY_PATH_AND_LANGUAGE)
def test_response_never_repeats_the_matched_phrases(path: ResponsePath, language: str) -> None:
    phrases = MATCHED_PHRASES[language]
    response = _respond(path, language, has_safety_plan=True, phrases=phrases)
    text = _text(response).casefold()
    assert [phrase for phrase in phrases if phrase.casefold() in text] == []


@pytest.mark.parametrize(("path", "language"), EVERY_PATH_AND_LANGUAGE)
def test_response_asks_at_most_one_question(path: ResponsePath, language: str) -> None:
    response = _respond(path, language, has_safety_plan=True)
    assert _text(response).count("?") <= 1


@pytest.mark.parametrize(("path", "language"), EVERY_PATH_AND_LANGUAGE)
def test_messages_stay_short(path: ResponsePath, language: str) -> None:
    response = _respond(path, language, has_safety_plan=True)
    for message in response.messages:
        assert len(message) <= MAX_MESSAGE_LENGTH
        if "•" not in message:
            assert len(message) <= 400, message


def test_a_long_resource_list_is_split_under_the_telegram_limit() -> None:
    lines = [
        _resource(ResourceKind.CRISIS_LINE, f"Line {i:03d} " + "x" * 80, f"0800 {i:03d}")
        for i in range(200)
    ]
    giant = _resource(ResourceKind.TEXT_LINE, "y" * 9000, text="GIANT")
    response = _respond(ResponsePath.SUICIDE_RISK, country=_country(*lines, giant))
    assert all(len(message) <= MAX_MESSAGE_LENGTH for message in response.messages)
    text = "".join(response.messages)
    assert all(f"Line {i:03d}" in text for i in range(200))
    assert len(response.messages) > 4


# Plan and choices


@pytest.mark.parametrize("path", ALL_PATHS)
def test_plan_is_offered_only_when_the_person_has_one(path: ResponsePath) -> None:
    with_plan = _respond(path, has_safety_plan=True)
    without_plan = _respond(path, has_safety_plan=False)
    assert ChoiceId.PLAN in [choice.id for choice in with_plan.choices]
    assert ChoiceId.PLAN not in [choice.id for choice in without_plan.choices]
    assert [choice.id for choice in without_plan.choices] == [
        ChoiceId.GROUNDING,
        ChoiceId.RESUME,
        ChoiceId.PAUSE,
    ]
    assert len(_text(with_plan)) > len(_text(without_plan))


@pytest.mark.parametrize("language", LANGUAGES)
def test_choice_labels_are_in_the_persons_language(language: str) -> None:
    response = _respond(ResponsePath.CONCERN, language, has_safety_plan=True)
    book = phrasebook(language)
    assert [choice.label for choice in response.choices] == [
        book.say(f"choices.{choice.id.value}") for choice in response.choices
    ]


# Languages and data files


def test_every_language_file_has_the_same_keys() -> None:
    books = load_responses()
    assert set(books) == set(LANGUAGES)
    for book in books.values():
        assert set(book.phrases) == set(SCHEMA)


def test_languages_fall_back_to_english_and_ignore_regions() -> None:
    english = _respond(ResponsePath.SUICIDE_RISK, "en")
    assert _respond(ResponsePath.SUICIDE_RISK, "pt").messages == english.messages
    assert _respond(ResponsePath.SUICIDE_RISK, "").messages == english.messages
    mexican = _respond(ResponsePath.SUICIDE_RISK, "es-MX")
    assert mexican.messages == _respond(ResponsePath.SUICIDE_RISK, "es").messages
    assert mexican.messages != english.messages


def test_loaded_responses_are_cached() -> None:
    assert load_responses() is load_responses()


def _copy_data(tmp_path: Path) -> Path:
    directory = tmp_path / "responses"
    shutil.copytree(DATA_DIR, directory)
    return directory


def test_missing_key_is_a_load_error_naming_the_file(tmp_path: Path) -> None:
    directory = _copy_data(tmp_path)
    german = directory / "de.yaml"
    lines = german.read_text(encoding="utf-8").splitlines(keepends=True)
    german.write_text("".join(line for line in lines if "hope:" not in line), encoding="utf-8")
    with pytest.raises(ResponseDataError) as error:
        load_responses(directory)
    assert f"{german}: missing key 'suicide_risk.hope'" in str(error.value)
    assert "en.yaml" not in str(error.value)


def _line_number(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_unknown_key_and_bad_placeholders_are_load_errors_with_lines(tmp_path: Path) -> None:
    directory = _copy_data(tmp_path)
    french = directory / "fr.yaml"
    text = french.read_text(encoding="utf-8")
    text = text.replace('"le {phone}"', '"le {phone.__class__}"')
    text = text.replace("appelle {emergency} maintenant.", "appelle maintenant.")
    text += 'extra:\n  word: "Bonjour"\n'
    french.write_text(text, encoding="utf-8")
    with pytest.raises(ResponseDataError) as error:
        load_responses(directory)
    problems = str(error.value).splitlines()
    number_line = _line_number(text, "{phone.__class__}")
    emergency_line = _line_number(text, "ne peux plus te protéger, appelle maintenant")
    assert (
        f"{french}:{number_line}: emergency.number: placeholder {{phone.__class__}} is not allowed"
        " here" in problems
    )
    assert (
        f"{french}:{emergency_line}: suicide_risk.emergency: placeholder {{emergency}} is missing"
        in problems
    )
    assert f"{french}:{_line_number(text, 'word:')}: unknown key 'extra.word'" in problems


def test_a_sentence_that_is_not_a_quoted_string_is_a_load_error(tmp_path: Path) -> None:
    directory = _copy_data(tmp_path)
    spanish = directory / "es.yaml"
    text = spanish.read_text(encoding="utf-8").replace('pause: "Hacer una pausa"', "pause: no")
    spanish.write_text(text, encoding="utf-8")
    with pytest.raises(ResponseDataError, match=r"es\.yaml:\d+: 'choices\.pause' must be"):
        load_responses(directory)


def test_missing_english_is_a_load_error(tmp_path: Path) -> None:
    directory = _copy_data(tmp_path)
    (directory / "en.yaml").unlink()
    with pytest.raises(ResponseDataError, match="en.yaml: missing"):
        load_responses(directory)


# Countries with gaps


@pytest.mark.parametrize("language", LANGUAGES)
def test_international_list_points_to_the_local_emergency_number(language: str) -> None:
    international = _country(
        _resource(ResourceKind.EMERGENCY, "Should not be used", "000"),
        _resource(ResourceKind.CRISIS_LINE, "Directory", website="https://findahelpline.com"),
        code="INT",
    )
    book = phrasebook(language)
    for path in ALL_PATHS:
        text = _text(_respond(path, language, international))
        assert book.say("emergency.local") in text
        assert "000" not in text


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_country_without_lines_still_gets_a_resource_list(path: ResponsePath) -> None:
    response = _respond(path, country=_country())
    lines = _resource_lines(response)
    assert lines == [phrasebook("en").say("resource.directory")]
    assert phrasebook("en").say("emergency.local") in _text(response)


def test_danger_without_a_domestic_violence_line_falls_back_to_crisis_lines() -> None:
    country = _country(
        _resource(ResourceKind.EMERGENCY, "Emergency services", EMERGENCY),
        _resource(ResourceKind.CRISIS_LINE, "Listening Line", CRISIS),
    )
    lines = _resource_lines(_respond(ResponsePath.DANGER_FROM_OTHER, country=country))
    assert len(lines) == 1 and CRISIS in lines[0]


def test_several_emergency_numbers_are_all_listed() -> None:
    country = _country(
        _resource(ResourceKind.EMERGENCY, "Ambulance", "1501"),
        _resource(ResourceKind.EMERGENCY, "Police", "1701"),
        _resource(ResourceKind.CRISIS_LINE, "Listening Line", CRISIS),
    )
    first = _respond(ResponsePath.MEDICAL, country=country).messages[0]
    assert phrasebook("en").say("emergency.several") in first
    assert "Ambulance" in first and "1501" in first and "1701" in first


# Failing towards resources


class _Exploding(str):
    """A resource field that raises when a template renders it."""

    def __format__(self, spec: str) -> str:
        raise RuntimeError("template rendering failed")


@dataclass(frozen=True)
class _BrokenCountry(CountryResources):
    """A country whose resources cannot even be read."""

    def of_kind(self, kind: ResourceKind) -> tuple[Resource, ...]:
        raise RuntimeError("resource directory failed")


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendering_error_still_yields_the_resources(
    language: str, caplog: pytest.LogCaptureFixture
) -> None:
    country = _country(
        _resource(ResourceKind.EMERGENCY, "Emergency services", EMERGENCY),
        _resource(ResourceKind.CRISIS_LINE, "Listening Line", CRISIS),
        _resource(ResourceKind.DOMESTIC_VIOLENCE, _Exploding("Home Safe"), DV),
    )
    phrases = ("he has a knife",)
    with caplog.at_level(logging.ERROR, logger="safety.responses"):
        response = _respond(ResponsePath.DANGER_FROM_OTHER, language, country, phrases=phrases)
    book = phrasebook(language)
    text = _text(response)
    assert book.say("fallback.opening") in text
    assert CRISIS in text and EMERGENCY in text
    assert (response.path, response.level) == (ResponsePath.DANGER_FROM_OTHER, Level.CRISIS)
    assert caplog.records and "he has a knife" not in caplog.text


def test_error_everywhere_still_yields_the_fixed_message() -> None:
    broken = _BrokenCountry("XB", "Brokenland", ())
    response = _respond(ResponsePath.SUICIDE_RISK, country=broken)
    book = phrasebook("en")
    text = _text(response)
    assert book.say("fallback.opening") in text
    assert book.say("resource.directory") in text
    assert book.say("emergency.local") in text
    assert [choice.id for choice in response.choices][-1] is ChoiceId.PAUSE
