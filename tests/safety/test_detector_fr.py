"""French crisis-language rules (safety/data/patterns/fr.yaml): what they catch and what they leave alone.

The messages are written for these tests (not taken from the corpus) in the way people write French in a
chat: no accents, apostrophes dropped or spaced, SMS spelling, slang from France, Belgium, Switzerland,
Québec and francophone Africa, and a few English words mixed in.
"""

from __future__ import annotations

import pytest

from safety import Category, Level, screen

C = Category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("jveux me foutre en l air ce soir", C.SUICIDE),
        ("j ai envie de crever, vraiment", C.SUICIDE),
        ("Je vais mettre fin à mes jours, c'est décidé.", C.SUICIDE),
        ("chui a bout jvais me pendre dans le garage", C.SUICIDE),
        ("jai plus envie de vivre du tout", C.SUICIDE),
        ("je pense a me suicider depuis ce matin", C.SUICIDE),
        ("je vais me donner la mort, personne ne m'aime", C.SUICIDE),
        ("wallah je vais me jeter sous le metro", C.SUICIDE),
        ("jme suicide demain matin", C.SUICIDE),
        ("je veux mouriiir", C.SUICIDE),
        ("ma vie vaut plus la peine, je veux en finir", C.SUICIDE),
        ("j'ai écrit ma lettre d'adieu, elle est sur mon bureau", C.SUICIDE),
        ("j3 v41s m3 tu3r", C.SUICIDE),
        ("j'ai le goût de mourir", C.SUICIDE),
        ("chu pu capable, j'vais m'tuer", C.SUICIDE),
        ("g envi de mourir", C.SUICIDE),
        ("quand tu liras ce message je serai déjà partie", C.SUICIDE),
        ("je suis debout sur les rails, le train arrive", C.SUICIDE),
        ("Madame, je souhaite mettre un terme à mon existence, je ne vois plus d'issue.", C.SUICIDE),
        ("j'ai fixé la date, ce sera le 12. j'ai tout ce qu'il faut", C.SUICIDE),
        ("je veux mourir 💀 je suis sérieuse", C.SUICIDE),
        ("j'ai noué la corde au garage", C.SUICIDE),
        ("j'arrête pas de penser à me tuer", C.SUICIDE),
        ("je planifie mon suicide pour la semaine prochaine", C.SUICIDE),
    ],
)
def test_french_suicidal_intent_is_crisis(text: str, category: Category) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert category in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "je suis en train de me scarifier la",
        "jvais me couper les bras ce soir jpp",
        "je me suis encore tailladée les cuisses",
        "j'ai le rasoir dans la main, faut que ça sorte",
    ],
)
def test_french_self_harm_now_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.SELF_HARM in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "jai avalé toute la plaquette de somniferes il y a une heure",
        "j ai pris trop de cachets, jvois flou",
        "ça arrête pas de saigner, la coupure est trop profonde",
        "j'ai une douleur horrible dans la poitrine et le bras gauche",
    ],
)
def test_french_medical_emergency_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.MEDICAL in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "mon mec me frappe, il est dans le salon, aidez moi",
        "il a sorti un couteau et il dit qu il va me planter",
        "mon ex est devant ma porte et il tape dessus",
        "il m'a enfermée dans la cave depuis ce matin",
        "il m a etranglée tout à l heure, j'ai peur qu'il recommence",
        "mon chum dit qu'il va me tuer si je pars",
        "mon ex sait ou j habite maintenant",
        "je suis planquée chez la voisine, il me cherche partout",
        "un type me suit dans le métro depuis tout à l'heure",
        "il me tient enfermée chez lui depuis samedi",
        "mon mec a menacé de mettre le feu à l'appart avec moi dedans",
    ],
)
def test_french_danger_from_another_person_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.DANGER_FROM_OTHER in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "il m'a violée hier soir et je sais pas quoi faire",
        "il me force à coucher avec lui quand il a bu",
    ],
)
def test_french_sexual_violence_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.SEXUAL_VIOLENCE in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "mon beau pere me tape dessus quand ma mere est pas la, j ai 12 ans",
        "ma daronne m'a frappée avec la ceinture et j'ai 14 ans",
    ],
)
def test_french_child_hurt_by_an_adult_is_child_abuse_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.CHILD_ABUSE in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "ma soeur m'a dit qu'elle allait se tuer ce soir",
        "mon pote menace de sauter du toit de son immeuble",
        "j'entends le voisin frapper sa femme, elle hurle",
    ],
)
def test_french_someone_else_at_risk_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.OTHER_AT_RISK in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "jpp de cette vie. c'est quoi le pont le plus haut de la ville",
        "je me sens vide, combien de doliprane il faudrait pour que ce soit mortel",
    ],
)
def test_french_method_question_next_to_distress_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert C.METHOD_SEEKING in assessment.categories


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("j'aimerais juste disparaître pour toujours", C.PASSIVE_IDEATION),
        ("a quoi bon se lever le matin", C.PASSIVE_IDEATION),
        ("tout le monde serait plus heureux sans moi", C.PASSIVE_IDEATION),
        ("j'espère ne pas me réveiller demain", C.PASSIVE_IDEATION),
        ("je suis fatiguée de vivre", C.PASSIVE_IDEATION),
        ("jen peux plus, vraiment", C.DISTRESS),
        ("je fais une crise d'angoisse dans le bus", C.DISTRESS),
        ("je broie du noir depuis des semaines", C.DISTRESS),
        ("chu pu capable, je file tout croche", C.DISTRESS),
        ("je suis au fond du trou", C.DISTRESS),
        ("il me rabaisse tout le temps et il lit mes messages", C.DISTRESS),
        ("j'ai eu envie de me scarifier toute la soirée mais je tiens un glaçon", C.SELF_HARM),
        ("ma copine dit qu'elle aimerait disparaitre, comment l'aider", C.OTHER_AT_RISK),
        ("je pense au suicide des fois mais je ferai rien, mes enfants me retiennent", C.SUICIDE),
        ("mon mec dit qu'il se tuera si je le quitte", C.OTHER_AT_RISK),
        ("je vis dans la peur depuis qu'il est sorti de prison", C.DISTRESS),
        ("je file pas pantoute depuis des semaines", C.DISTRESS),
        ("parfois j'ai envie de me faire du mal", C.SELF_HARM),
        ("je suis épuisée moralement, j'ai plus la force", C.DISTRESS),
        ("ma sœur boit beaucoup et parle de disparaître", C.OTHER_AT_RISK),
        ("la mort ne me fait plus peur", C.PASSIVE_IDEATION),
        ("il garde tout l'argent et je dois tout justifier", C.DISTRESS),
        ("je bois tous les soirs pour tenir", C.DISTRESS),
    ],
)
def test_french_passive_ideation_and_distress_are_concern(text: str, category: Category) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CONCERN
    assert category in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "je suis mort de rire avec ta vidéo",
        "mdr je suis morte",
        "j'ai faim, je meurs",
        "il fait une chaleur a crever",
        "ce taf me tue",
        "je vais tuer mon frère, il a mangé mes chips",
        "ma mère va me tuer si je rentre après minuit",
        "mon tel est mort en plein trajet",
        "je tue le temps en attendant le train",
        "je me tue à lui répéter de ranger sa chambre",
        "mon perso est mort trois fois contre le boss",
        "dans le film il se suicide à la fin, c'était triste",
        "aux infos un homme a été poignardé à Lyon",
        "avant je me scarifiais mais ça fait 4 ans que j'ai arrêté, je suis fière",
        "avec ma psy on a parlé de mes idées suicidaires de l'an dernier, c'est derrière moi",
        "tkt je suis pas suicidaire, juste crevée",
        "je vais pas me faire de mal, j'avais juste besoin de râler",
        "je vais me couper les cheveux court",
        "elle se pend au téléphone toute la soirée",
        "combien de paracétamol je peux prendre pour une migraine",
        "je vais me tirer une balle mdr j'ai encore raté le bus",
        "mon père me tape sur les nerfs",
        "mon frère m'a battue aux échecs",
        "j'en peux plus de ces travaux chez le voisin",
        "je vais sauter le repas de midi",
        "on a fait un atelier sur la prévention du suicide au boulot",
        "ça me touche beaucoup ton message",
        "je me suis coupé le doigt en cuisinant",
        "je vais me pendre à ton cou quand je te verrai",
        "mon copain cuisine avec un couteau japonais",
        "je suis sur les rails de la réussite mdr",
        "je vous dis adieu, je change de téléphone, je vous rajoute après",
        "je vais partir pour de bon au Canada !",
        "mes idées suicidaires ont disparu depuis que je suis suivie",
        "ça va mieux depuis que j'ai pris un doliprane",
        "j'ai acheté une corde pour l'escalade en salle",
        "il a une arme de service, il est gendarme",
        "je bois trop de café, je vais faire une overdose lol",
        "je suis tombée dans les pommes à la prise de sang",
        "on va sauter à l'élastique d'un pont pour son anniversaire",
        "je veux plus vivre avec mes parents, je cherche un studio",
        "ma copine m'a bloquée sur insta après notre dispute",
        "je me suis enfermée dans ma chambre pour réviser le bac",
    ],
)
def test_french_idioms_games_news_past_and_negation_are_not_flagged(text: str) -> None:
    assert screen(text).level is Level.NONE


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("honestly i'm done, je vais me foutre en l'air tonight", Level.CRISIS),
        ("my boyfriend m'a frappée et il est encore là", Level.CRISIS),
        ("je suis literally morte de rire lol", Level.NONE),
        ("trop de stress at work, je fais des crises d'angoisse", Level.CONCERN),
    ],
)
def test_french_mixed_with_english_still_works(text: str, level: Level) -> None:
    assert screen(text).level is level


def test_a_denial_does_not_cancel_a_real_wish_to_disappear() -> None:
    assessment = screen("je vais pas me tuer mais j'aimerais ne plus être là")
    assert assessment.level is Level.CONCERN


def test_french_is_detected_from_a_plain_chat_message() -> None:
    assert screen("franchement j'en ai marre, rien va ce soir").language == "fr"


def test_an_urge_resisted_with_the_blade_out_is_still_crisis() -> None:
    assessment = screen("envie de me faire du mal, j'ai sorti la lame mais je résiste")
    assert assessment.level is Level.CRISIS
