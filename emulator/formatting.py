"""Telegram's text formatting: parse_mode markup to plain text and entities, with its errors."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.models import ApiError

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_ATTRIBUTE = re.compile(r"\s*([a-zA-Z0-9_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def utf16_length(text: str) -> int:
    """Return the length of text in UTF-16 code units, the unit of entity offsets."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def parse_formatted(
    text: str, parse_mode: str | None, entities: Sequence[Mapping[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """Turn text with a parse_mode (or explicit entities) into plain text and entities."""
    if entities:
        return text, [dict(entity) for entity in entities]
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _Builder(text).parse_html()
    if mode == "markdownv2":
        return _Builder(text).parse_markdown_v2()
    if mode == "markdown":
        return _Builder(text).parse_markdown()
    raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")


def checked_text(
    text: str | None,
    parse_mode: str | None,
    entities: Sequence[Mapping[str, Any]] | None,
    *,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Parse and trim a message text or caption, enforcing Telegram's length limits."""
    plain, found = parse_formatted(text or "", parse_mode, entities)
    plain, found = _strip(plain, found)
    limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
    # tdlib measures the limit in Unicode code points, not in UTF-16 units.
    if len(plain) > limit:
        what = "message caption" if caption else "message"
        raise ApiError(400, f"Bad Request: {what} is too long")
    if not plain and not caption:
        raise ApiError(400, "Bad Request: message text is empty")
    return plain, found


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_length(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_length(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept


class _Builder:
    """Accumulates plain text and entities while one markup dialect is scanned."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.units = 0
        self.entities: list[dict[str, Any]] = []

    def emit(self, chars: str) -> None:
        """Append plain text, counting UTF-16 units for entity offsets."""
        self.out.append(chars)
        self.units += utf16_length(chars)

    def close(self, kind: str, start: int, **extra: Any) -> None:
        """Record an entity from start to the current position unless it is empty."""
        if self.units > start:
            self.entities.append({"type": kind, "offset": start, "length": self.units - start})
            self.entities[-1].update({key: value for key, value in extra.items() if value})

    def byte_offset(self, index: int) -> int:
        """Return the UTF-8 byte offset of a source index, as Telegram's errors report it."""
        return len(self.source[:index].encode())

    def error(self, what: str) -> ApiError:
        """Build the error Telegram answers for markup it cannot parse."""
        return ApiError(400, f"Bad Request: can't parse entities: {what}")

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        """Return the plain text and the entities sorted the way Telegram sorts them."""
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def parse_html(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse Telegram's HTML subset."""
        text = self.source
        stack: list[tuple[str, int, dict[str, str]]] = []
        i, n = 0, len(text)
        while i < n:
            char = text[i]
            if char == "&":
                match = _HTML_ENTITY.match(text, i)
                if match:
                    self.emit(html.unescape(match.group(0)))
                    i = match.end()
                    continue
                self.emit(char)
                i += 1
            elif char == "<" and text.startswith("</", i):
                end = text.find(">", i)
                if end < 0:
                    raise self.error(f"Unclosed end tag at byte offset {self.byte_offset(i)}")
                name = text[i + 2 : end].strip().lower()
                if not stack:
                    raise self.error(f"Unexpected end tag at byte offset {self.byte_offset(i)}")
                open_name, start, attributes = stack.pop()
                if name != open_name:
                    raise self.error(
                        f"Unmatched end tag at byte offset {self.byte_offset(i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                self._close_html(open_name, start, attributes, stack)
                i = end + 1
            elif char == "<":
                name = _TAG_NAME.match(text, i + 1).group(0).lower()  # type: ignore[union-attr]
                if name not in _HTML_TAGS:
                    raise self.error(
                        f'Unsupported start tag "{name}" at byte offset {self.byte_offset(i)}'
                    )
                attributes, i = self._html_attributes(i, i + 1 + len(name))
                if name == "span" and attributes.get("class") != "tg-spoiler":
                    raise self.error('Tag "span" must have class "tg-spoiler"')
                stack.append((name, self.units, attributes))
            else:
                self.emit(char)
                i += 1
        if stack:
            raise self.error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
        return self.result()

    def _html_attributes(self, tag_start: int, i: int) -> tuple[dict[str, str], int]:
        """Read a start tag's attributes; return them and the index after the tag."""
        text = self.source
        attributes: dict[str, str] = {}
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                raise self.error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            if text[i] == ">":
                return attributes, i + 1
            match = _HTML_ATTRIBUTE.match(text, i)
            if not match or match.end() == i:
                raise self.error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            value = match.group(2) or ""
            if value[:1] in {'"', "'"}:
                value = value[1:-1]
            attributes[match.group(1).lower()] = html.unescape(value)
            i = match.end()

    def _close_html(
        self,
        name: str,
        start: int,
        attributes: dict[str, str],
        stack: list[tuple[str, int, dict[str, str]]],
    ) -> None:
        """Turn one closed HTML tag into its entity."""
        kind = _HTML_TAGS[name]
        if kind == "text_link":
            url = attributes.get("href", "")
            if url.startswith("tg://user?id="):
                self.close("text_mention", start, user={"id": int(url.split("=", 1)[1] or 0)})
            elif url:
                self.close("text_link", start, url=url)
        elif kind == "custom_emoji":
            self.close(kind, start, custom_emoji_id=attributes.get("emoji-id", ""))
        elif kind == "blockquote":
            self.close("expandable_blockquote" if "expandable" in attributes else kind, start)
        elif kind == "code" and stack and stack[-1][0] == "pre":
            language = attributes.get("class", "").removeprefix("language-")
            stack[-1][2].setdefault("language", language)
        elif kind == "pre":
            self.close(kind, start, language=attributes.get("language"))
        else:
            self.close(kind, start)

    def parse_markdown_v2(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse MarkdownV2, where every reserved character outside markup must be escaped."""
        text = self.source
        stack: list[tuple[str, int, int]] = []  # kind, start in UTF-16 units, source index
        quote: tuple[str, int] | None = None
        pre_language: str | None = None
        i, n = 0, len(text)
        while i < n:
            char = text[i]
            top = stack[-1][0] if stack else None
            line_start = i == 0 or text[i - 1] == "\n"
            if char == "\\":
                if i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                    self.emit(text[i + 1])
                    i += 2
                    continue
                raise self.error("Character '\\' is reserved and must be escaped with '\\'")
            if top in {"code", "pre"}:
                if top == "pre" and text.startswith("```", i):
                    _, start, _ = stack.pop()
                    self.close("pre", start, language=pre_language)
                    i += 3
                elif top == "code" and char == "`":
                    self.close(*stack.pop()[:2])
                    i += 1
                else:
                    self.emit(char)
                    i += 1
                continue
            if char == "\n" and quote is not None and not text.startswith(">", i + 1):
                self.close(quote[0], quote[1])
                quote = None
            if line_start and char == ">":
                if quote is None:
                    quote = ("blockquote", self.units)
                i += 1
                continue
            if line_start and text.startswith("**>", i):
                if quote is None:
                    quote = ("expandable_blockquote", self.units)
                i += 3
                continue
            expandable = quote is not None and quote[0] == "expandable_blockquote"
            if expandable and text.startswith("||", i) and text[i + 2 : i + 3] in {"", "\n"}:
                assert quote is not None
                self.close(quote[0], quote[1])
                quote = None
                i += 2
                continue
            step = 1
            kind: str | None = None
            if char == "*":
                kind = "bold"
            elif char == "_":
                kind, step = ("underline", 2) if text.startswith("__", i) else ("italic", 1)
            elif char == "~":
                kind = "strikethrough"
            elif char == "|" and text.startswith("||", i):
                kind, step = "spoiler", 2
            if kind is not None:
                if top == kind:
                    self.close(kind, stack.pop()[1])
                elif any(entry[0] == kind for entry in stack):
                    _, _, index = stack[-1]
                    raise self.error(
                        f"Can't find end of {_V2_NAMES[top or kind]} entity at byte offset "
                        f"{self.byte_offset(index)}"
                    )
                else:
                    stack.append((kind, self.units, i))
                i += step
            elif char == "`":
                if text.startswith("```", i):
                    start_index = i
                    i += 3
                    newline = text.find("\n", i)
                    first_line = text[i:newline] if newline >= 0 else ""
                    pre_language = None
                    if newline >= 0 and not any(c.isspace() or c in "`\\" for c in first_line):
                        pre_language = first_line or None
                        i = newline + 1
                    stack.append(("pre", self.units, start_index))
                else:
                    stack.append(("code", self.units, i))
                    i += 1
            elif char == "[" or (char == "!" and text.startswith("![", i)):
                kind = "custom_emoji" if char == "!" else "text_link"
                stack.append((kind, self.units, i))
                i += 2 if char == "!" else 1
            elif char == "]" and top in {"text_link", "custom_emoji"}:
                kind, start, index = stack.pop()
                i += 1
                if not text.startswith("(", i):
                    raise self.error(
                        f"Can't find end of {_V2_NAMES[kind]} entity at byte offset "
                        f"{self.byte_offset(index)}"
                    )
                url, i = self._v2_url(i + 1, index)
                if kind == "custom_emoji":
                    self.close(kind, start, custom_emoji_id=url.rpartition("id=")[2])
                else:
                    self.close(kind, start, url=url)
            elif char in _MARKDOWN_V2_RESERVED:
                raise self.error(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.emit(char)
                i += 1
        if quote is not None:
            self.close(quote[0], quote[1])
        if stack:
            kind, _, index = stack[-1]
            raise self.error(
                f"Can't find end of {_V2_NAMES[kind]} entity at byte offset "
                f"{self.byte_offset(index)}"
            )
        return self.result()

    def _v2_url(self, i: int, entity_index: int) -> tuple[str, int]:
        """Read a link target up to its unescaped closing parenthesis."""
        text = self.source
        url: list[str] = []
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                url.append(text[i + 1])
                i += 2
            elif char == ")":
                return "".join(url), i + 1
            else:
                url.append(char)
                i += 1
        raise self.error(
            f"Can't find end of a url at byte offset {self.byte_offset(entity_index)}"
        )

    def parse_markdown(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse legacy Markdown: bold, italic, code, pre and links, with no nesting."""
        text = self.source
        i, n = 0, len(text)
        closers = {"*": "bold", "_": "italic", "`": "code"}
        while i < n:
            char = text[i]
            if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
                self.emit(text[i + 1])
                i += 2
            elif text.startswith("```", i):
                end = text.find("```", i + 3)
                if end < 0:
                    raise self._markdown_unclosed(i)
                body = text[i + 3 : end]
                first, newline, rest = body.partition("\n")
                language = first if newline and first and " " not in first else None
                start = self.units
                self.emit(rest if language else body)
                self.close("pre", start, language=language)
                i = end + 3
            elif char in closers:
                end = text.find(char, i + 1)
                if end < 0:
                    raise self._markdown_unclosed(i)
                start = self.units
                self.emit(text[i + 1 : end])
                self.close(closers[char], start)
                i = end + 1
            elif char == "[":
                close = text.find("]", i + 1)
                if close < 0:
                    raise self._markdown_unclosed(i)
                start = self.units
                self.emit(text[i + 1 : close])
                i = close + 1
                if text.startswith("(", i):
                    end = text.find(")", i)
                    if end < 0:
                        raise self._markdown_unclosed(i)
                    self.close("text_link", start, url=text[i + 1 : end])
                    i = end + 1
            else:
                self.emit(char)
                i += 1
        return self.result()

    def _markdown_unclosed(self, index: int) -> ApiError:
        """Build the legacy Markdown error for an entity without its end."""
        return self.error(
            f"Can't find end of the entity starting at byte offset {self.byte_offset(index)}"
        )
