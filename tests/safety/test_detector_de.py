"""German crisis-language rules: crisis, concern and the hard negatives that must stay none.

The messages are written for these tests (not taken from the corpus) and imitate German chat:
du-register, no umlauts or ae/oe/ue, ß as ss, lower case, typos, regional forms (Austria,
Switzerland), separable verbs and verb-final word order, and German mixed with English.
"""

from __future__ import annotations

import pytest

from safety import Category, Level, screen


def _check(text: str, level: Level, category: Category | None = None) -> None:
    assessment = screen(text)
    assert assessment.level is level, (text, assessment.matches)
    if category is not None:
        assert category in assessment.categories, (text, assessment.categories)


@pytest.mark.parametrize(
    "text",
    [
        "heut nacht bring ich mich um",
        "ich weiss nicht ob ich mich umbringen soll, ich will nur dass es aufhört",
        "hab beschlossen dass ich mich am samstag umbringe",
        "ich glaub ich werd mir bald das leben nehmen",
        "spiele mit dem gedanken mich vor den zug zu werfen",
        "wenn alle schlafen häng ich mich auf",
        "ich will einfach nur noch sterben",
        "ich moechte nicht mehr leben",
        "i wott nümme läbe",
        "mag nimma lebn ehrlich",
        "ich denk jeden tag an suizid",
        "ich tu mir heut abend was an",
        "ich mach schluss mit meinem leben",
        "ich geb mir heute die kugel, kein witz",
        "ICH WILL MICH UMBRINGEN",
        "ich wil mich umbrigen",
        "ich will mich u m b r i n g e n",
        "ich will mich umbrіngen",  # Cyrillic і
        "ich will mich um\u200bbringen",  # zero-width space
        "hab 30 schlaftabletten gehortet und heute nehm ich die alle",
    ],
)
def test_german_suicidal_intent_is_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.SUICIDE)


@pytest.mark.parametrize(
    "text",
    [
        "wie bring ich mich am schnellsten um",
        "was ist die schmerzloseste methode zu sterben",
        "wieviele paracetamol braucht man um nicht mehr aufzuwachen",
        "ich kann nicht mehr. welche brücke hier ist am höchsten",
        "mir ist alles egal. welche tabletten sind tödlich zusammen",
    ],
)
def test_german_method_questions_with_distress_or_alone_explicit_are_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.METHOD_SEEKING)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ich ritze mich grad und es hört nicht auf", Category.SELF_HARM),
        ("die klinge liegt neben mir und ich muss mich jetzt schneiden", Category.SELF_HARM),
        ("hab vorhin ne ganze packung ibu geschluckt", Category.MEDICAL),
        ("ich hab 25 tabletten genommen und mir ist voll schwindelig", Category.MEDICAL),
        ("zu tief geschnitten, es blutet wie verrückt", Category.MEDICAL),
        ("mein mann schlägt mich grad wieder, bin im bad eingeschlossen", Category.DANGER_FROM_OTHER),
        ("er hat mich gewürgt bis ich keine luft mehr bekam", Category.DANGER_FROM_OTHER),
        ("mein ex hat gedroht mich umzubringen wenn ich zur polizei geh", Category.DANGER_FROM_OTHER),
        ("er hat ein messer geholt und brüllt rum", Category.DANGER_FROM_OTHER),
        ("mein ex hämmert gegen die tür und ich hab angst", Category.DANGER_FROM_OTHER),
        ("ein typ verfolgt mich grad nach hause, hilfe", Category.DANGER_FROM_OTHER),
        ("er hat mich eingesperrt und mein handy weggenommen", Category.DANGER_FROM_OTHER),
        ("ich wurde letzte nacht vergewaltigt", Category.SEXUAL_VIOLENCE),
        ("jemand hat mir ko tropfen ins getränk gekippt", Category.SEXUAL_VIOLENCE),
        ("er droht meine nacktbilder an alle zu verschicken", Category.SEXUAL_VIOLENCE),
        ("ich bin 12 und mein papa haut mich mit dem gürtel", Category.CHILD_ABUSE),
        ("mein stiefvater fasst mich nachts an", Category.CHILD_ABUSE),
        ("ich trau mich nicht nach hause, mama schlägt mich", Category.CHILD_ABUSE),
        ("meine schwester hat geschrieben sie bringt sich heute um", Category.OTHER_AT_RISK),
        ("mein kumpel will sich umbringen, was soll ich tun", Category.OTHER_AT_RISK),
    ],
)
def test_every_kind_of_german_risk_is_crisis_with_its_category(
    text: str, category: Category
) -> None:
    _check(text, Level.CRISIS, category)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ich kann einfach nicht mehr", Category.DISTRESS),
        ("was ist eigentlich der sinn von dem ganzen leben", Category.PASSIVE_IDEATION),
        ("manchmal wünschte ich ich wär nie geboren", Category.PASSIVE_IDEATION),
        ("alle wären besser dran ohne mich", Category.PASSIVE_IDEATION),
        ("es würde eh keiner merken wenn ich weg wäre", Category.PASSIVE_IDEATION),
        ("ich bin allen nur eine last", Category.PASSIVE_IDEATION),
        ("ich will morgens einfach nicht mehr aufwachen", Category.PASSIVE_IDEATION),
        ("hatte heute schon wieder ne panikattacke", Category.DISTRESS),
        ("die flashbacks kommen jede nacht", Category.DISTRESS),
        ("mir gehts richtig beschissen und ich heul seit tagen nur noch", Category.DISTRESS),
        ("ich weiß nicht mehr weiter", Category.DISTRESS),
        ("er liest alle meine chats und kontrolliert mein geld", Category.DANGER_FROM_OTHER),
        ("der druck zu ritzen ist krass aber ich mach meine skills", Category.SELF_HARM),
        ("meine freundin sagt oft dass sie lieber tot wäre", Category.OTHER_AT_RISK),
    ],
)
def test_german_passive_ideation_distress_and_worry_are_concern(
    text: str, category: Category
) -> None:
    _check(text, Level.CONCERN, category)


@pytest.mark.parametrize(
    "text",
    [
        # idioms
        "das warten bringt mich echt um",
        "die hitze bringt mich noch um",
        "meine füße bringen mich um in den neuen schuhen",
        "ich sterbe vor hunger, was gibts heute",
        "ich lach mich tot über das video",
        "hab mich totgelacht",
        "mein handy ist tot, schreib dir später",
        "ich könnte meinen mitbewohner umbringen, schon wieder mein joghurt weg",
        "hab den schlüssel vergessen, ich könnt mich erschießen haha",
        "ich hab mit meinem freund schluss gemacht, ist besser so",
        "ich mach heute früher schluss mit der arbeit",
        "ich bin todmüde",
        "bist du lebensmüde? bei dem wetter ohne helm",
        "kann nicht mehr vor lachen 😂",
        "bring mich bitte um 8 zum bahnhof",
        "ich spring gleich unter die dusche",
        # games, fiction, news
        "in minecraft bin ich schon wieder gestorben",
        "der endboss hat mich dreimal gekillt",
        "im film bringt sich die hauptfigur am ende um, so traurig",
        "ich schreibe ein referat über suizidprävention",
        "in den nachrichten: ein mann wurde in graz erstochen",
        "meine oma hat mich beim uno geschlagen",
        # resolved past, therapy, negation
        "früher hab ich mich geritzt, aber seit 4 jahren bin ich clean und stolz drauf",
        "vor fünf jahren hatte ich einen suizidversuch, heute geht es mir richtig gut",
        "ich werde mich nicht umbringen, ich muss nur mal dampf ablassen",
        "keine sorge, ich tu mir nichts an",
        "ich bin nicht suizidal, nur genervt von der uni",
        # ordinary days
        "wie viele ibuprofen darf ich bei kopfschmerzen nehmen",
        "hab mich beim gemüse schneiden geschnitten, nicht schlimm",
        "ich bin mir nicht sicher ob ich heute hingehe",
        "ich muss noch ein neues messer für die küche kaufen",
        "er folgt mir jetzt auf insta",
    ],
)
def test_german_idioms_fiction_news_resolved_past_and_negation_are_none(text: str) -> None:
    _check(text, Level.NONE)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("ich kann nicht mehr, ich will literally sterben", Level.CRISIS),
        ("my dad schlägt mich jeden abend", Level.CRISIS),
        ("ich will mich killen ngl", Level.CRISIS),
        ("ich fühl mich so empty, alles ist sinnlos", Level.CONCERN),
        ("lol ich sterbe 😂 das meme ist zu gut", Level.NONE),
        ("this song is killing me, die bridge ist so gut", Level.NONE),
    ],
)
def test_german_mixed_with_english_is_read(text: str, level: Level) -> None:
    _check(text, level)


def test_a_denial_in_german_does_not_cancel_a_wish_to_die() -> None:
    _check("ich bring mich nicht um, aber ich will nicht mehr leben", Level.CRISIS)


def test_an_idiom_elsewhere_does_not_hide_a_german_crisis() -> None:
    _check("mein handy ist tot und ich will mich heute umbringen", Level.CRISIS)


def test_a_german_crisis_buried_in_a_long_message_is_found() -> None:
    text = (
        "heute war uni, dann einkaufen, mama hat angerufen wegen weihnachten. "
        "eigentlich alles normal. ich hab nur beschlossen dass ich mich heute nacht umbringe. "
        "egal, was macht ihr am wochenende?"
    )
    _check(text, Level.CRISIS, Category.SUICIDE)


def test_unresolved_german_past_abuse_is_concern_not_crisis() -> None:
    _check("als kind hat mein onkel mich geschlagen, das kommt immer wieder hoch", Level.CONCERN)


def test_german_text_is_detected_as_german() -> None:
    assert screen("ich weiß nicht mehr weiter, alles ist zu viel").language == "de"


def test_ordinary_english_chat_never_raises_a_german_rule() -> None:
    for text in (
        "i will die of boredom in this meeting lol",
        "the stalking stopped years ago and i sleep fine now",
        "my mom will kill me if i miss the bus",
        "we watched a movie about a man who hangs himself, so sad",
    ):
        german = [m for m in screen(text).matches if m.language == "de"]
        assert not [m for m in german if m.level is not Level.NONE], text
