"""What a step gives the report, and what the steps share."""
from __future__ import annotations

from latentspace.commands.study.presets import PRESETS
from latentspace.commands.study.sections import Context, Section, Step


def test_sections_start_done_and_the_context_joins_paths(tmp_path):
    s = Section("ae20", "Autoencoder")
    assert (s.status, s.figures, s.tables, s.reused) == ("done", [], [], False)
    ctx = Context(tmp_path, PRESETS["smoke"], "fashion-mnist", 0, False)
    assert ctx.path("ae-z20", "x.png") == tmp_path / "ae-z20" / "x.png" and ctx.results == {}
    assert Step("a", "A", lambda c: s).needs == ()
