"""Mermaid state diagrams generated from the transition table."""

from __future__ import annotations

from .engine import Machine


def mermaid(machine: Machine) -> str:
    """The machine as a Mermaid stateDiagram-v2, one arrow per (source, action)."""
    lines = ["stateDiagram-v2", f"    [*] --> {machine.initial}"]
    for s in machine.states:
        lines.append(f"    {s.name} : {s.name} {s.label_zh}")
    for t in machine.transitions:
        for src in t.sources:
            lines.append(f"    {src} --> {t.target} : {t.action}")
    for s in machine.states:
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines)
