"""Spanish crisis-language rules: crisis, concern and the hard negatives that must stay none.

The messages are written for these tests (not taken from the corpus) and imitate Spanish chat
from Spain, Mexico, the Caribbean, Colombia, Peru, Chile, Argentina and the US: no accents,
"q"/"k" for "que", "kiero", missing punctuation, slang (wey, neta, posta, boludo, parce),
pronouns before or after the verb ("me voy a matar", "voy a matarme"), and Spanglish.
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
        "ya no puedo mas, esta noche me mato",
        "voy a tomarme todas las pastillas que tengo",
        "kiero morirme ya, no aguanto",
        "neta ya me quiero morir",
        "m quiero matar",
        "estoy pensando en suicidarme",
        "me voy a tirar del puente hoy",
        "wey me voy a aventar al metro",
        "ya decidí quitarme la vida el sábado",
        "quiero dormir y no despertar nunca más",
        "quiero desaparecer para siempre",
        "tengo la soga lista",
        "ya escribí mi carta de despedida",
        "adiós para siempre",
        "pienso en el suicidio todos los días",
        "ya no quiero vivir",
        "no le encuentro razón para seguir viviendo",
        "q ganas de morirme",
        "me kiero matar posta",
        "ME QUIERO MORIRRR",
        "me v0y a m4t4r",
        "me voy a s u i c i d a r",
        "me quiero suicidr",
    ],
)
def test_intent_plan_or_present_wish_to_die_is_a_suicide_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.SUICIDE)


@pytest.mark.parametrize(
    "text",
    [
        "me estoy cortando ahorita",
        "quiero cortarme los brazos",
        "tengo la gillette en la mano",
        "me voy a hacer daño, ya no aguanto",
    ],
)
def test_self_harm_now_is_a_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.SELF_HARM)


@pytest.mark.parametrize(
    "text",
    [
        "me tomé 30 pastillas de clonazepam hace media hora",
        "me tomé todo el frasco de paracetamol",
        "tomé cloro",
        "no para de sangrar, me corté muy hondo",
        "me pasé con las pastillas y me siento mareada",
    ],
)
def test_overdose_poison_or_bleeding_under_way_is_a_medical_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.MEDICAL)


@pytest.mark.parametrize(
    "text",
    [
        "mi esposo me está pegando, ayuda",
        "mi novio dice que me va a matar si lo dejo",
        "tiene un cuchillo y está gritando",
        "me encerró en el cuarto y no me deja salir",
        "un tipo me está siguiendo desde el metro",
        "mi ex está afuera de mi casa y tengo miedo",
        "me ahorcó y tengo marcas en el cuello",
        "me amenazó con matarme",
        "el man me dio una golpiza",
    ],
)
def test_threats_weapons_violence_and_being_trapped_are_danger_crises(text: str) -> None:
    _check(text, Level.CRISIS, Category.DANGER_FROM_OTHER)


@pytest.mark.parametrize(
    "text",
    [
        "me violaron anoche",
        "mi jefe me tocó las nalgas",
        "me drogaron en la fiesta",
        "amenaza con subir mis packs si no le mando más",
        "mi marido me está forzando",
    ],
)
def test_sexual_violence_is_a_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.SEXUAL_VIOLENCE)


@pytest.mark.parametrize(
    "text",
    [
        "tengo 12 años y mi papá me pega con el cinturón",
        "mi padrastro entra a mi cuarto cuando duermo",
        "me da miedo volver a casa porque mi mamá me pega",
        "mi tio me toca y no se a quien decirle",
    ],
)
def test_a_child_hurt_by_an_adult_is_a_child_abuse_crisis(text: str) -> None:
    _check(text, Level.CRISIS, Category.CHILD_ABUSE)


@pytest.mark.parametrize(
    "text",
    [
        "mi amiga dice que se quiere matar hoy",
        "mi hermano se tomó un montón de pastillas",
        "cómo ayudo a mi amigo que se quiere suicidar?",
        "escucho al vecino pegándole a su esposa",
        "mi parce dijo que se va a tirar del puente",
    ],
)
def test_someone_else_at_risk_is_a_crisis_for_them(text: str) -> None:
    _check(text, Level.CRISIS, Category.OTHER_AT_RISK)


@pytest.mark.parametrize(
    "text",
    [
        "cuántas pastillas de paracetamol hacen falta para morir",
        "cuál es la forma más fácil de morir",
        "cual es el edificio mas alto de aqui, ya no puedo mas",
    ],
)
def test_method_questions_that_seek_death_or_follow_distress_are_crises(text: str) -> None:
    _check(text, Level.CRISIS, Category.METHOD_SEEKING)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a veces quisiera no despertar", Category.PASSIVE_IDEATION),
        ("ojalá nunca hubiera nacido", Category.PASSIVE_IDEATION),
        ("todos estarían mejor sin mí", Category.PASSIVE_IDEATION),
        ("estoy tan cansada de todo", Category.PASSIVE_IDEATION),
        ("para qué sigo viva si nadie me quiere", Category.PASSIVE_IDEATION),
        ("ya no aguanto más", Category.DISTRESS),
        ("me siento vacía y sin esperanza", Category.DISTRESS),
        ("tengo ataques de pánico todas las noches", Category.DISTRESS),
        ("no me voy a hacer nada pero estoy muy deprimida", Category.DISTRESS),
        ("mi novio revisa mi celular y no me deja ver a mis amigas", Category.DANGER_FROM_OTHER),
        ("mi ex me sigue escribiendo desde cuentas falsas", Category.DANGER_FROM_OTHER),
        ("tengo muchas ganas de cortarme pero estoy aguantando", Category.SELF_HARM),
        ("mi mejor amiga dice que le gustaría desaparecer", Category.OTHER_AT_RISK),
    ],
)
def test_passive_ideation_distress_and_resisted_urges_are_concern(
    text: str, category: Category
) -> None:
    _check(text, Level.CONCERN, category)


@pytest.mark.parametrize(
    "text",
    [
        "cuando era niña mi tío abusaba de mí y todavía tengo pesadillas",
        "intenté suicidarme el año pasado y todavía me cuesta hablarlo",
        "mi ex me pegaba hace años",
    ],
)
def test_the_unresolved_past_is_concern_not_crisis(text: str) -> None:
    _check(text, Level.CONCERN)


@pytest.mark.parametrize(
    "text",
    [
        "me muero de risa con este video 😂",
        "me muero por verte el sábado",
        "este tráfico me está matando",
        "me mato estudiando para el final",
        "se me murió el celular otra vez",
        "mi mamá me va a matar cuando vea mis notas jaja",
        "me quiero morir de la vergüenza, me caí enfrente de todos",
        "el capítulo de anoche me mató",
        "ese chiste me mató",
        "estoy muerta de cansancio",
        "me pegó la gripe de mi hermano",
        "mi crush me sigue en insta",
        "mañana me toca ir al dentista",
        "me voy a cortar el pelo corto",
        "prefiero morir antes que usar crocs jajaja",
        "mi papá me va a matar, choqué el carro jaja",
    ],
)
def test_spanish_idioms_are_none(text: str) -> None:
    _check(text, Level.NONE)


@pytest.mark.parametrize(
    "text",
    [
        "en la serie el protagonista se suicida al final",
        "me mataron tres veces en fortnite",
        "ayer vi en las noticias que un hombre fue apuñalado en el centro",
        "la película sobre el suicidio de la cantante me dejó pensando",
        "el edificio más alto de la ciudad tiene 60 pisos",
        "cuántas pastillas de ibuprofeno puedo tomar para el dolor de muela?",
        "tengo un cuchillo nuevo para la cocina",
        "Mi abuela murió el año pasado",
        "hoy fue un día pesado en el trabajo pero ya estoy en casa",
    ],
)
def test_games_fiction_news_and_ordinary_days_are_none(text: str) -> None:
    _check(text, Level.NONE)


@pytest.mark.parametrize(
    "text",
    [
        "no me voy a hacer daño, solo necesito desahogarme",
        "no soy suicida, solo estoy cansada del trabajo",
        "hace 3 años intenté quitarme la vida y hoy estoy muy feliz de seguir aquí",
        "hace 5 años me cortaba, hoy llevo 5 años limpia y estoy orgullosa",
        "hablé con mi psicóloga de las ideas suicidas que tuve, ya no las tengo",
        "estoy a salvo, él ya no sabe dónde vivo",
    ],
)
def test_denials_the_resolved_past_and_therapy_talk_are_none(text: str) -> None:
    _check(text, Level.NONE)


@pytest.mark.parametrize(
    "text",
    [
        "guardé pastillas durante meses, el sábado me las tomo",
        "ya arreglé todo: el seguro, las cuentas, y les dejé una carta a mis hermanas",
        "estuve investigando cuánto tarda en hacer efecto el paracetamol",
        "tengo una soga en la cajuela del carro, ya no aguanto",
        "si mañana no contesto es porque ya no estoy",
        "paso de vivir, tío, en serio",
        "me re quiero matar boludo",
        "me mataré esta noche",
    ],
)
def test_oblique_plans_research_and_regional_forms_are_suicide_crises(text: str) -> None:
    _check(text, Level.CRISIS, Category.SUICIDE)


@pytest.mark.parametrize(
    "text",
    [
        "me dijo «si me dejas te mato» y ahorita está en la sala",
        "mi marido me ha pegado otra vez",
        "mi señor me levantó la mano anoche",
        "no puedo hablar, él está afuera del baño",
        "mi ex está en la puerta pateándola",
        "mi pareja me apretó el cuello hasta que me desmayé",
    ],
)
def test_violence_in_progress_and_quoted_threats_are_danger_crises(text: str) -> None:
    _check(text, Level.CRISIS, Category.DANGER_FROM_OTHER)


def test_a_stranger_online_asking_a_child_for_secret_photos_is_a_crisis() -> None:
    _check(
        "un señor que conocí en roblox me pide fotos y dice que es nuestro secreto, tengo 12",
        Level.CRISIS,
        Category.CHILD_ABUSE,
    )


@pytest.mark.parametrize(
    "text",
    [
        "la reunión de hoy me mató, tres horas de nada",
        "no tengo a nadie con quien ir al cine",
        "mi hermana me jaló el pelo jaja, nos peleamos por la tele",
        "compré dos cajas de paracetamol para el botiquín de la casa",
        "hoy es mi último día en el trabajo, qué nostalgia",
        "me voy a tirar a la piscina",
        "quiero desaparecer este grano de mi cara",
        "mi perrito me sigue a todas partes",
    ],
)
def test_everyday_messages_with_risky_words_are_none(text: str) -> None:
    _check(text, Level.NONE)


def test_a_denial_does_not_cancel_a_wish_to_die_in_the_same_message() -> None:
    _check("no voy a hacer ninguna tontería, pero quiero morirme", Level.CRISIS, Category.SUICIDE)


def test_a_past_resolved_is_not_resolved_when_the_risk_is_back_now() -> None:
    _check("hace años me cortaba y lo superé, pero hoy quiero cortarme otra vez", Level.CRISIS)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I just want to die, ya no aguanto más", Level.CRISIS),
        ("estoy so done with life, me quiero matar", Level.CRISIS),
        ("im gonna kms, no aguanto", Level.CRISIS),
        ("my boyfriend me pegó otra vez", Level.CRISIS),
        ("me siento tan hopeless", Level.CONCERN),
        ("i'm dying to see you, me muero por verte", Level.NONE),
        ("this commute is killing me, el tráfico está horrible", Level.NONE),
    ],
)
def test_spanish_mixed_with_english_is_read_in_both(text: str, level: Level) -> None:
    _check(text, level)


def test_a_crisis_buried_in_a_long_message_is_found() -> None:
    text = (
        "hoy fui al super y compre tortillas, luego hable con mi prima que se va a casar en "
        "junio. ya tengo las pastillas guardadas y esta noche me las voy a tomar todas. "
        "mañana tengo que llevar el carro al taller"
    )
    _check(text, Level.CRISIS)


@pytest.mark.parametrize(
    "text",
    ["me quiero morir", "ya no aguanto más, no quiero vivir", "mi novio me pega"],
)
def test_short_spanish_messages_are_detected_as_spanish(text: str) -> None:
    assert screen(text).language == "es"


@pytest.mark.parametrize(
    "text",
    [
        "I'd kill for a coffee right now",
        "this homework is killing me lol",
        "my phone died again",
        "me and my friends went to the movies, no spoilers",
        "the news said a man was stabbed downtown",
    ],
)
def test_spanish_rules_stay_quiet_on_ordinary_english(text: str) -> None:
    assessment = screen(text)
    assert not any(match.language == "es" for match in assessment.matches), assessment.matches
