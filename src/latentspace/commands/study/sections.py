"""What a step of the study gives the report: a Section of figures (with captions), tables and notes; and
what the steps share while the study runs (Context)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from latentspace.commands.study.presets import Preset
from latentspace.data.registry import STUDY_SHAPE


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
    error: str = ""          # why it failed, or why it was skipped
    by_design: bool = False  # skipped because the data does not allow the step (no labels): not a failure
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
    data: dict = field(default_factory=dict)     # the data options every training gets (data_dir, image size ...)
    classes: tuple = ()                          # the dataset's class names; () when it has no labels
    image_shape: tuple = STUDY_SHAPE
    identity: str = ""                           # the data's key for what is learned from it (Splits.identity)

    def path(self, *parts) -> Path:
        return self.out.joinpath(*parts)

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    @property
    def fashion(self) -> bool:
        """The study's own data: its figure numbers and its remarks about garments apply."""
        return self.dataset == "fashion-mnist"

    def about(self, fashion: str, other: str) -> str:
        """A caption's dataset-specific sentence: the study's remark on Fashion-MNIST, a general one elsewhere."""
        return fashion if self.fashion else other

    @property
    def subject(self) -> str:
        """What the images show, for captions: a folder by its own name, not its whole path."""
        if self.fashion:
            return "clothing"
        if self.dataset.startswith("folder:"):
            return f"pictures like those in {Path(self.dataset[len('folder:'):]).name or self.dataset}/"
        return f"{self.dataset} images"

    def by_class(self) -> str:
        return "coloured by class" if self.labelled else "in one colour (the data has no labels)"

    def train_config(self, model: str | None = None, **settings):
        """A TrainConfig for this study's data and seed: `model`'s training defaults (its fast recipe), then the
        step's own settings."""
        from latentspace.models import get_spec
        from latentspace.training.config import TrainConfig

        defaults = dict(get_spec(model).train_defaults) if model else {}
        return TrainConfig(**{**defaults, "seed": self.seed, "dataset": self.dataset, **self.data, **settings})


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    run: Callable[[Context], Section]
    needs: tuple = ()
    needs_labels: bool = False  # skipped, with the reason in the report, on a dataset without labels
    presets: tuple = ()         # the presets whose study has this step (empty: every preset's)
