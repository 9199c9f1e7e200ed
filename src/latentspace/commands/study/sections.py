"""What a step of the study gives the report: a Section of figures (with captions), tables and notes; and
what the steps share while the study runs (Context)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from latentspace.commands.study.presets import Preset


@dataclass
class Figure:
    path: str
    caption: str


@dataclass
class Table:
    title: str
    columns: list
    rows: list


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    figures: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    status: str = "done"     # done | failed | skipped
    error: str = ""
    seconds: float = 0.0
    reused: bool = False


@dataclass
class Context:
    out: Path
    preset: Preset
    dataset: str
    seed: int
    progress: bool
    results: dict = field(default_factory=dict)  # step key -> whatever later steps need (run paths ...)

    def path(self, *parts) -> Path:
        return self.out.joinpath(*parts)


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    run: Callable[[Context], Section]
    needs: tuple = ()
