"""English hard negatives: everyday words that sound risky are none, and real risk next to them
still counts. Each case stands for a class of false alarm (see safety/data/patterns/en.yaml)."""

from __future__ import annotations

import pytest

from safety import Category, Level, screen


@pytest.mark.parametrize(
    "text",
    [
        # a prediction or an idiom, not a wish to die
        "my phone is on 2% and i'm going to die without the map",
        "the heat in this office is going to kill me",
        "these toddlers will be the death of me",
        "the neighbours' kids are driving me up the wall",
        "i could sleep forever after that night shift",
        "the wait for the results is unbearable",
        "i'm hopeless at maths lol",
        # jokes with kms, kill me, goodbye
        "replied all to the whole school by accident kms",
        "this playlist makes me want to die lol",
        "my dad will kill me if i'm late for dinner again",
        "bye forever, my old trainers, you served me well",
        "goodbye to my old sofa, the new one arrives today",
        "taking a break from tiktok, goodbye everyone, back in a week",
        "see you all on the other side of my dissertation",
        # "do it" and a time are not a plan on their own
        "i'm going to do it, i'm going to ask for a raise on friday",
        "i'll do it tomorrow, the washing can wait",
        "tonight is the night, first date in two years",
        # dosing questions about children ("son" is not "soon")
        "how much calpol can my son have? he has a temperature",
        "how many paracetamol can i take for a migraine today",
        # small doses, falling onto the sofa, a whole box of sweets
        "i took 2 ibuprofen this morning, can i take more now?",
        "collapsed on the sofa after work and slept for three hours",
        "i ate the whole box of chocolates in one go",
        # games, sport, play fights, media
        "my nephew hit me with a water balloon and now it's war",
        "she destroyed me in straight sets at tennis",
        "in the game you jump off the tower and glide down",
        "the season finale wrecked me, what an ending",
        "the last episode handled the suicide storyline really carefully",
        # everyday ropes, kitchens, doors
        "got the climbing rope and harness ready for saturday",
        "my flatmate went to the kitchen to get a snack",
        "hiding in the bathroom at the party because i don't know anyone lol",
        # someone else's feelings, trivial threats
        "how do i say no to my friend without hurting her feelings",
        "mum threatened to take my phone away if i don't tidy my room",
        # the resolved past
        "four years since i left him, i'm safe and life is good",
        "i used to cut in school but i'm ten years clean and proud of it",
        # recreational jumping, harmless swallowing
        "went bungee jumping off a bridge in the alps, best day ever",
        "my toddler swallowed a bit of bath water, is that ok?",
    ],
)
def test_english_hard_negatives_are_none(text: str) -> None:
    assert screen(text).level is Level.NONE


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # the idiom is excused, the real sentence next to it is not
        ("the heat is killing me and honestly i want to kill myself", Category.SUICIDE),
        ("kms lol. no really, i'm going to kill myself tonight", Category.SUICIDE),
        ("see you on the other side. the pills are counted out and i'm done", Category.SUICIDE),
        # "do it" with a near time, a wish to die, a plan
        ("i can't take it anymore, i'm going to do it tonight", Category.SUICIDE),
        ("i'm going to do it when everyone's asleep", Category.SUICIDE),
        ("i just want to stop breathing", Category.SUICIDE),
        ("i've been stockpiling my prescription and i have enough now", Category.SUICIDE),
        # a method question with distress or a place with a time
        ("how much paracetamol would it take, i'm so done with everything", Category.SUICIDE),
        ("looked up which bridge has no fence. tonight", Category.METHOD_SEEKING),
        # danger: a weapon or hiding next to fear
        ("he has a knife and i'm hiding in the bathroom, i'm terrified", Category.DANGER_FROM_OTHER),
        ("he's gone to the shed to get something and he's screaming he'll kill me",
         Category.DANGER_FROM_OTHER),
        ("i said no and he didn't stop", Category.SEXUAL_VIOLENCE),
        ("my girlfriend texted 'sorry, i love you, goodbye' and her phone is off",
         Category.OTHER_AT_RISK),
        # medical: a real overdose, not a small dose
        ("i took like 30 of my antidepressants an hour ago", Category.MEDICAL),
        ("my grandad collapsed in the kitchen and isn't breathing", Category.MEDICAL),
    ],
)
def test_real_risk_next_to_everyday_words_is_still_crisis(text: str, category: Category) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert category in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        # resisted urges and a denial next to a wish are concern (corpus guide), not none
        "the urge to cut is strong tonight but i'm holding an ice cube and staying strong",
        "i'm not going to do anything, i just don't want to be here anymore",
        # fear of a parent and worry about someone else's cuts are concern
        "i'm scared of my dad when he's been drinking",
        "i noticed cuts on my daughter's arms and i'm worried",
    ],
)
def test_held_off_or_indirect_risk_is_concern(text: str) -> None:
    assert screen(text).level is Level.CONCERN


def test_a_resolved_past_of_abuse_with_harm_now_is_not_resolved() -> None:
    text = "my ex hit me years ago and i'm at peace now, but my new boyfriend hit me last night"
    assert screen(text).level is not Level.NONE


@pytest.mark.parametrize(
    "text",
    [
        # other languages' contexts must not read English past/resolution signals and lower these
        "i tried to kill myself years ago and i'm doing much better now, but tonight i'm going to "
        "kill myself",
        "i used to cut as a teen and i'm proud of how far i've come, but i want to die",
    ],
)
def test_a_resolved_past_never_hides_present_intent(text: str) -> None:
    assert screen(text).level is Level.CRISIS
