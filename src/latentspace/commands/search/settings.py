"""Everything one search (and each of its workers) needs: picklable, so worker processes get a copy."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from latentspace.training.config import TrainConfig


@dataclass
class SearchSettings:
    """The command line of one search, as data."""
    kind: str = "ae"
    trials: int = 30
    sampler: str = "random"
    epochs_per_trial: int = 5
    out: str | None = None
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    heartbeat: int = 30
    space: tuple = ()
    model: dict = field(default_factory=dict)  # model config fields that are not searched (e.g. width)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def out_dir(self) -> Path:
        return Path(self.out or f"runs/search-{self.kind}")

    @property
    def study_name(self) -> str:
        return self.study or self.kind

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out_dir / 'study.db').resolve()}"

    def grace_period(self) -> int:
        return 3 * self.heartbeat
