"""The safeplace command line."""

from __future__ import annotations

import argparse
import json
import subprocess
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

    run = commands.add_parser("run", help="run the Telegram bot")
    run.set_defaults(handler=_run)

    chat = commands.add_parser("chat", help="talk to SafePlace in the terminal")
    chat.add_argument("--person", type=int, default=-1, help="which local person to be")
    chat.add_argument("--lang", help="the language to start in (en, es)")
    chat.set_defaults(handler=_chat)

    db = commands.add_parser("db", help="the database schema")
    db_commands = db.add_subparsers(metavar="COMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="apply every migration")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(handler=_db_upgrade)

    keys = commands.add_parser("keys", help="the encryption keys of stored text")
    keys_commands = keys.add_subparsers(metavar="COMMAND")
    keys_rotate = keys_commands.add_parser(
        "rotate", help="re-encrypt all stored text with the newest key in ENCRYPTION_KEY"
    )
    keys_rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    keys_rotate.set_defaults(handler=_keys_rotate)

    resources = commands.add_parser("resources", help="crisis resources for a country")
    resources.add_argument("country", nargs="?", help="ISO alpha-2 code or country name")
    resources.add_argument("--json", action="store_true", help="print JSON")
    resources.set_defaults(handler=_resources)

    flows_parser = commands.add_parser("flows", help="check and draw the exercise flows")
    flows_commands = flows_parser.add_subparsers(metavar="COMMAND")
    flows_validate = flows_commands.add_parser("validate", help="report every problem in flows")
    flows_validate.add_argument("paths", nargs="*", type=Path, help="files or directories")
    flows_validate.set_defaults(handler=_flows_validate)
    flows_graph = flows_commands.add_parser("graph", help="draw a flow (DOT, or SVG/PNG)")
    flows_graph.add_argument("flow", help="a flow id from flows/data, or a flow file")
    flows_graph.add_argument("-o", "--output", type=Path, required=True, help=".dot/.svg/.png")
    flows_graph.add_argument("--lang", help="the language of the texts (default: the first)")
    flows_graph.set_defaults(handler=_flows_graph)

    checkins = commands.add_parser("checkins", help="daily check-ins")
    checkins_commands = checkins.add_subparsers(metavar="COMMAND")
    send_due = checkins_commands.add_parser("send-due", help="send the check-ins due now, once")
    send_due.add_argument("--at", help="ISO-8601 instant to act as now (default: now; naive: UTC)")
    send_due.set_defaults(handler=_checkins_send_due)
    return parser


def _run(args: argparse.Namespace) -> int:
    from bot.app import BadToken, check_token, run
    from bot.config import Settings
    from bot.crypto import InvalidKey
    from bot.services import NoEncryptionKey, cipher_for

    settings = Settings.load()
    try:
        check_token(settings.telegram_bot_token)
        cipher_for(settings)
    except (BadToken, NoEncryptionKey, InvalidKey) as error:
        print(f"safeplace run: {error}", file=sys.stderr)
        return 2
    run(settings)
    return 0


def _chat(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    from bot.chat import chat
    from bot.config import Settings

    settings = Settings.load()
    if not settings.encryption_key and not settings.allow_unencrypted:
        print("(no ENCRYPTION_KEY: this terminal session stores text unencrypted, for trying out)")
        settings = dataclasses.replace(settings, allow_unencrypted=True)
    return asyncio.run(chat(settings, person=args.person, language=args.lang))


def _checkins_send_due(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    from bot.app import BadToken, check_token
    from bot.checkins import run_pass
    from bot.config import Settings
    from bot.crypto import InvalidKey
    from bot.services import NoEncryptionKey, cipher_for

    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            print(
                f"safeplace checkins send-due: --at {args.at!r} is not ISO-8601", file=sys.stderr
            )
            return 2
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    settings = Settings.load()
    try:
        check_token(settings.telegram_bot_token)
        cipher_for(settings)
    except (BadToken, NoEncryptionKey, InvalidKey) as error:
        print(f"safeplace checkins send-due: {error}", file=sys.stderr)
        return 2
    report = asyncio.run(run_pass(settings, at))
    print(report.describe())
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.storage.session import upgrade

    upgrade(Settings.load().database_url, args.revision)
    print("database is up to date")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    import asyncio

    from bot.config import Settings
    from bot.crypto import Cipher, InvalidKey
    from bot.keys import ColumnReport, rotate
    from bot.storage.session import create_engine

    settings = Settings.load()
    if not settings.encryption_key:
        print("safeplace keys rotate: ENCRYPTION_KEY is not set", file=sys.stderr)
        return 2
    try:
        cipher = Cipher.from_keys(settings.encryption_key)
    except InvalidKey as error:
        print(f"safeplace keys rotate: {error}", file=sys.stderr)
        return 2
    if args.batch_size < 1:
        print("safeplace keys rotate: --batch-size must be at least 1", file=sys.stderr)
        return 2

    def progress(report: ColumnReport) -> None:
        print(f"  {report.name}: {report.read} read so far", flush=True)

    async def rotate_all() -> list[ColumnReport]:
        engine = create_engine(settings.database_url)
        try:
            return await rotate(engine, cipher, args.batch_size, progress=progress)
        finally:
            await engine.dispose()

    reports = asyncio.run(rotate_all())
    for report in reports:
        print(report.describe())
    rotated = sum(report.rotated for report in reports)
    unreadable = sum(report.unreadable for report in reports)
    print(f"{rotated} value(s) re-encrypted with the newest of {cipher.key_count} key(s)")
    if unreadable:
        print(
            f"safeplace keys rotate: {unreadable} value(s) could not be decrypted with any key "
            "in ENCRYPTION_KEY; add the key they were written with and run this again",
            file=sys.stderr,
        )
        return 1
    return 0


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


def _flows_validate(args: argparse.Namespace) -> int:
    from flows.schema import DATA_DIRECTORY, flow_files, read_flows

    paths = args.paths or [DATA_DIRECTORY]
    flows, _, problems = read_flows(paths)
    for problem in problems:
        print(f"{_shown(problem.path)}:{problem.line}: {problem.message}")
    if problems:
        files = len({problem.path for problem in problems})
        print(f"{len(problems)} problem(s) in {files} file(s)")
        return 1
    checked = len(flow_files(paths))
    print(f"{checked} flow file(s) OK: {', '.join(sorted(flows)) or 'none found'}")
    return 0


def _flows_graph(args: argparse.Namespace) -> int:
    from flows.graph import GraphvizMissing, write_graph
    from flows.schema import DATA_DIRECTORY, read_flow

    path = Path(args.flow)
    if path.suffix not in (".yaml", ".yml"):
        path = DATA_DIRECTORY / f"{args.flow}.yaml"
    if not path.is_file():
        print(f"safeplace flows graph: there is no flow {args.flow!r}", file=sys.stderr)
        return 2
    flow, problems = read_flow(path)
    for problem in problems:
        print(f"{_shown(problem.path)}:{problem.line}: {problem.message}", file=sys.stderr)
    if flow is None:
        return 1
    language = args.lang or flow.languages[0]
    if language not in flow.languages:
        known = ", ".join(flow.languages)
        print(f"safeplace flows graph: {flow.id} is written in {known}", file=sys.stderr)
        return 2
    try:
        write_graph(flow, language, args.output)
    except (GraphvizMissing, ValueError, OSError, subprocess.CalledProcessError) as error:
        print(f"safeplace flows graph: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


def _shown(path: Path) -> Path:
    """Show a path relative to the working directory when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
