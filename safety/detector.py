"""Crisis-language detection: screen(text) → Assessment (work in progress)."""

from __future__ import annotations

from safety.assessment import Assessment, Level


def screen(text: str, lang: str | None = None) -> Assessment:
    """Assess one message."""
    return Assessment(level=Level.NONE, categories=(), language=lang or "en")
