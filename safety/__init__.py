"""Crisis-language detection, crisis responses and the crisis-resource directory."""

from safety.assessment import Assessment, Category, Level, Match
from safety.detector import screen

__all__ = ["Assessment", "Category", "Level", "Match", "screen"]
