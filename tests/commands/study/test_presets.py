"""The study's presets: every step has a time estimate, and the quick preset's fit its budget."""
from __future__ import annotations

from latentspace.commands.study.presets import PRESETS
from latentspace.commands.study.steps import STEPS


def test_every_preset_estimates_every_step_and_quick_fits_in_15_minutes():
    for preset in PRESETS.values():
        assert set(preset.estimates) == {s.key for s in STEPS}, preset.name
    # the estimates are the measured per-step times of the quick preset on 2 CPU cores (README)
    assert sum(PRESETS["quick"].estimates.values()) <= 15 * 60
