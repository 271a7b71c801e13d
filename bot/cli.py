"""The safeplace command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from safety import resources as resource_directory
from safety.detector import screen


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return 2
    status: int = args.handler(args)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safeplace", description="SafePlace: a support companion for survivors."
    )
    commands = parser.add_subparsers(metavar="COMMAND")

    safety_parser = commands.add_parser("safety", help="crisis-language detection")
    safety_commands = safety_parser.add_subparsers(metavar="COMMAND")
    check = safety_commands.add_parser("check", help="print the assessment of a text")
    check.add_argument("text", nargs="?", help="the text to assess")
    check.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines on stdin')
    check.add_argument("--lang", help="the language of the text (en, es, de, fr)")
    check.set_defaults(handler=_safety_check)
    score = safety_commands.add_parser("score", help="score the detector on labelled corpora")
    score.add_argument("paths", nargs="*", type=Path, help="JSON-lines corpora (default: ours)")
    score.add_argument("--errors", action="store_true", help="also list every misread message")
    score.set_defaults(handler=_safety_score)

    resources = commands.add_parser("resources", help="crisis resources for a country")
    resources.add_argument("country", nargs="?", help="ISO alpha-2 code or country name")
    resources.add_argument("--json", action="store_true", help="print JSON")
    resources.set_defaults(handler=_resources)
    return parser


def _safety_check(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _safety_check_lines(sys.stdin, sys.stdout, args.lang)
    if args.text is None:
        print("safeplace safety check: give a TEXT or --jsonl", file=sys.stderr)
        return 2
    print(json.dumps(screen(args.text, args.lang).to_json(), ensure_ascii=False))
    return 0


def _safety_check_lines(lines: TextIO, out: TextIO, lang: str | None) -> int:
    """Assess one JSON line at a time; a bad line gets an error object, never a skipped row."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"] if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise ValueError('expected an object with a string "text"')
        except (ValueError, KeyError) as error:
            # A line we cannot read is answered as a concern, never silently dropped.
            out.write(json.dumps({"level": "concern", "categories": [], "error": str(error)}))
            out.write("\n")
            print(f"line {number}: {error}", file=sys.stderr)
            continue
        out.write(json.dumps(screen(text, item.get("lang") or lang).to_json(), ensure_ascii=False))
        out.write("\n")
    out.flush()
    return 0


def _safety_score(args: argparse.Namespace) -> int:
    from safety import scoring

    paths = args.paths or scoring.default_corpus_paths()
    try:
        examples = scoring.load_corpus(paths)
    except scoring.CorpusError as error:
        print(error, file=sys.stderr)
        return 1
    report = scoring.score(examples)
    print(scoring.format_report(report, errors=args.errors))
    return 0


def _resources(args: argparse.Namespace) -> int:
    try:
        country = resource_directory.lookup(args.country)
    except resource_directory.UnknownCountry as error:
        print(f"safeplace resources: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(country.to_json(), ensure_ascii=False, indent=2))
    else:
        print(resource_directory.format_text(country))
    return 0
