"""The study's presets: every step has a time estimate, and the quick preset's fit its budget."""
from __future__ import annotations

from latentspace.commands.study.presets import PRESETS
from latentspace.commands.study.steps import STEPS, steps_for


def test_every_preset_estimates_every_step_and_quick_fits_in_15_minutes():
    for preset in PRESETS.values():
        assert set(preset.estimates) == {s.key for s in steps_for(preset.name)}, preset.name
    # the estimates are the measured per-step times of the quick preset on 2 CPU cores (README)
    assert sum(PRESETS["quick"].estimates.values()) <= 12 * 60  # issue 17's budget for the quick preset


def test_the_estimate_scales_what_scales_and_keeps_a_margin():
    quick = PRESETS["quick"]
    keys = [s.key for s in steps_for("quick")]
    base = quick.eta(keys, margin=1.0)
    assert base == sum(quick.estimates.values())
    # a machine 20 % slower: every step but the GAN's wall-clock budget takes 20 % longer; the estimate follows
    # (within 20 %, and not below it: the margin errs on the side of promising less)
    slower = sum((v - quick.fixed.get(k, 0)) * 1.2 + quick.fixed.get(k, 0) for k, v in quick.estimates.items())
    promised = quick.eta(keys, scale=1.2)
    assert slower <= promised <= 1.2 * slower
    gan, fixed = quick.estimates["gan"], quick.fixed["gan"]  # max_time does not stretch on a slower machine
    assert quick.eta(["gan"], scale=2.0, margin=1.0) == fixed + (gan - fixed) * 2.0


def test_the_quick_preset_uses_both_cores_for_the_search_and_the_fast_recipe():
    quick, smoke = PRESETS["quick"], PRESETS["smoke"]
    assert quick.search_workers == 2 and smoke.search_workers == 1  # the smoke study stays one process
    assert quick.beta_workers == 2 and smoke.beta_workers == 1
    assert quick.betas == "1,4,10"


def test_flow_matching_is_a_step_of_the_full_study_only():
    """Its training and its samples' scoring would double the quick preset's 12 minutes."""
    assert "flow" in {s.key for s in STEPS}
    assert [p for p in PRESETS if "flow" in {s.key for s in steps_for(p)}] == ["full"]
    assert PRESETS["full"].flow_epochs > 0 and [s.key for s in steps_for("full")] == [s.key for s in STEPS]
