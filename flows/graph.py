"""Diagrams of flows, generated from the YAML: DOT text, or SVG/PNG through Graphviz."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

from flows.schema import ConditionKind, Flow, State, Way

DOT_SUFFIXES = (".dot", ".gv")
RENDERED_SUFFIXES = (".svg", ".png", ".pdf")
_WRAP = 32
_SHOWN = 140


class GraphvizMissing(RuntimeError):
    """Raised when a rendered diagram is asked for but Graphviz's `dot` is not installed."""


def to_dot(flow: Flow, language: str) -> str:
    """Return a Graphviz DOT diagram of a flow, with its texts in one language."""
    title = f"{flow.title.texts.get(language, flow.id)} ({flow.id} v{flow.version}, {language})"
    lines = [
        f"digraph {_quote(flow.id)} {{",
        f"  graph [label={_quote(title)}, labelloc=t, fontname=Helvetica];",
        "  node [shape=box, style=rounded, fontname=Helvetica, fontsize=10];",
        "  edge [fontname=Helvetica, fontsize=9];",
        '  "_start" [shape=point, width=0.15];',
        f'  "_start" -> {_quote(flow.start)};',
    ]
    for state in flow.states.values():
        lines.append(f"  {_quote(state.id)} [{_node_attributes(state, language)}];")
    missing: set[str] = set()
    handovers: set[str] = set()
    for state in flow.states.values():
        for target, label, style in _edges(state, language):
            if target not in flow.states:
                missing.add(target)
            attributes = f"label={_quote(label)}{style}" if label else style.lstrip(", ")
            lines.append(f"  {_quote(state.id)} -> {_quote(target)} [{attributes}];")
        if state.goto_flow is not None:
            handovers.add(state.goto_flow)
            lines.append(f"  {_quote(state.id)} -> {_quote('flow:' + state.goto_flow)};")
    for target in sorted(missing):
        lines.append(
            f"  {_quote(target)} [label={_quote(target + ' (missing)')}, color=red, style=dashed];"
        )
    for target in sorted(handovers):
        label = f"goes on with the flow {target}"
        lines.append(f"  {_quote('flow:' + target)} [label={_quote(label)}, shape=component];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(flow: Flow, language: str, path: Path) -> None:
    """Write the diagram as DOT, or render it by the file's suffix (.svg, .png, .pdf)."""
    dot = to_dot(flow, language)
    suffix = path.suffix.lower()
    if suffix in DOT_SUFFIXES:
        path.write_text(dot, encoding="utf-8")
        return
    if suffix not in RENDERED_SUFFIXES:
        known = ", ".join(DOT_SUFFIXES + RENDERED_SUFFIXES)
        raise ValueError(f"cannot draw a {suffix or 'suffix-less'} file; use one of {known}")
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing(
            f"drawing {path.name} needs Graphviz's `dot` program, which is not installed: "
            "install Graphviz (e.g. `apt install graphviz`) or write a .dot file instead"
        )
    subprocess.run([program, f"-T{suffix[1:]}", "-o", str(path)], input=dot.encode(), check=True)


def _node_attributes(state: State, language: str) -> str:
    parts = [state.id]
    if state.say is not None:
        parts.append(_shorten(state.say.texts.get(language, "")))
    if state.ask is not None:
        parts.append(f"[typed answer kept as {{{state.ask}}}]")
    if state.keep is not None:
        parts.append(f"[keeps a {state.keep.kind.value.replace('_', ' ')}]")
    attributes = [f"label={_quote(chr(10).join(parts))}"]
    if state.end:
        attributes.append("peripheries=2")
    if state.branch:
        attributes.append("shape=diamond, style=solid")
    if state.ask is not None:
        attributes.append("shape=note, style=solid")
    if state.keep is not None:
        attributes.append('color="#2a7d4f"')
    return ", ".join(attributes)


def _edges(state: State, language: str) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    edges = state.edges()
    answer_target = next((e.target for e in edges if e.way is Way.ANSWER), None)
    for edge in edges:
        if edge.way is Way.BUTTON:
            button = state.buttons[edge.index]
            label = button.label.texts.get(language, "")
            if button.set:
                label += " " + ", ".join(f"{name}={value}" for name, value in button.set.items())
            found.append((edge.target, label, ""))
        elif edge.way is Way.ANSWER:
            same = any(e.way is Way.SKIP and e.target == edge.target for e in edges)
            found.append((edge.target, "answer or skip" if same else "answer", ""))
        elif edge.way is Way.SKIP and edge.target != answer_target:
            found.append((edge.target, "skip", ", style=dashed"))
        elif edge.way is Way.NEXT:
            found.append((edge.target, "", ""))
        elif edge.way is Way.RULE:
            condition = state.branch[edge.index].condition
            if condition.test is ConditionKind.EQUALS:
                label = f"if {condition.name} = {condition.value}"
            elif condition.test is ConditionKind.ANSWERED:
                label = f"if {condition.name} answered"
            else:
                label = f"if {condition.name} not answered"
            found.append((edge.target, label, ""))
        elif edge.way is Way.OTHERWISE:
            found.append((edge.target, "otherwise", ", style=dashed"))
    return found


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) > _SHOWN:
        flat = flat[: _SHOWN - 1].rstrip() + "…"
    return "\n".join(textwrap.wrap(flat, _WRAP))


def _quote(text: str) -> str:
    """Quote a DOT id or label: escape backslashes and quotes, turn newlines into \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
