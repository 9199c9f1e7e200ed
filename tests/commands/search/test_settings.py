"""A search's settings: where it writes, where its study lives, how long a silent trial may be."""
from __future__ import annotations

from pathlib import Path

from latentspace.commands.search.settings import SearchSettings


def test_defaults_follow_the_model_and_the_output_directory(tmp_path):
    s = SearchSettings(kind="vae", heartbeat=10)
    assert s.out_dir == Path("runs/search-vae") and s.study_name == "vae" and s.grace_period() == 30
    t = SearchSettings(out=str(tmp_path / "s"), study="mine", storage="postgresql://h/db")
    assert t.storage_url == "postgresql://h/db" and t.study_name == "mine"
    assert SearchSettings(out=str(tmp_path / "s")).storage_url == f"sqlite:///{(tmp_path / 's' / 'study.db').resolve()}"
