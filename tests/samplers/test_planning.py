"""A learned prior's plan of steps: fixed steps are taken exactly, a budget is planned from the measured speed and
never overrun, the learning rate's cosine follows the plan, and bad budgets are refused in one line."""
from __future__ import annotations

import itertools
import math
import time

import pytest

from latentspace.errors import LatentspaceError
from latentspace.samplers import planning
from latentspace.samplers.planning import StepPlan


def run(plan: StepPlan, seconds_a_step: float = 0.0) -> list[float]:
    factors = []
    while plan.next():
        factors.append(plan.cosine())
        if seconds_a_step:
            time.sleep(seconds_a_step)
        plan.done(1.0)
    plan.finish()
    return factors


def test_fixed_steps_are_taken_exactly_and_the_cosine_anneals_after_the_timed_steps():
    plan = StepPlan(1.0, steps=100)
    factors = run(plan)
    start = planning.TIMING_WARMUP + planning.TIMING_STEPS
    assert len(factors) == 100 and plan.record()["fit_steps"] == plan.record()["planned_steps"] == 100
    assert factors[:start + 1] == [1.0] * (start + 1)  # the same factors as a budgeted fit in its timed steps
    assert factors[-1] < 0.01 and all(a >= b for a, b in itertools.pairwise(factors))


def test_a_budget_is_planned_from_the_speed_and_never_overrun():
    lines = []
    plan = StepPlan(0.01, log=lines.append, name="toy prior")  # 0.6 s at ~5 ms a step: ~100 steps
    t0 = time.perf_counter()
    run(plan, seconds_a_step=0.005)
    assert time.perf_counter() - t0 < 0.6 + 0.5
    record = plan.record()
    assert record["planned_steps"] > planning.TIMING_WARMUP + planning.TIMING_STEPS and record["minutes"] == 0.01
    assert record["fit_steps"] <= record["planned_steps"]
    assert any(line.startswith("toy prior:") and "planning" in line for line in lines)


def test_a_slower_machine_shrinks_the_plan():
    lines = []
    plan = StepPlan(0.02, log=lines.append)
    delay = [0.002]

    def step_time():
        if plan.step == planning.TIMING_WARMUP + planning.TIMING_STEPS + 5:
            delay[0] = 0.01  # five times slower once the plan is made
        return delay[0]

    while plan.next():
        time.sleep(step_time())
        plan.done(0.0)
    assert any("slower than planned" in line for line in lines)
    assert plan.planned < plan.first_plan


@pytest.mark.parametrize("minutes, steps, match", [(0, None, "minutes"), (-1, None, "minutes"),
                                                   (math.inf, None, "minutes"), (True, None, "minutes"),
                                                   (1.0, 0, "steps"), (1.0, 2.5, "steps")])
def test_bad_budgets_are_refused(minutes, steps, match):
    with pytest.raises(LatentspaceError, match=match):
        StepPlan(minutes, steps)


def test_the_learning_rate_warms_up_then_follows_the_cosine():
    import torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    plan = StepPlan(1.0, steps=10)
    while plan.next():
        plan.set_lr(opt, 2.0, 4)
        assert opt.param_groups[0]["lr"] == pytest.approx(2.0 * min(1.0, (plan.step + 1) / 4) * plan.cosine())
        plan.done(0.0)
    assert plan.step == 10


def test_shuffled_batches_cover_every_index_once_a_pass_and_repeat_for_a_seed():
    import torch

    from latentspace.samplers.planning import Shuffled

    def passes(seed):
        b = Shuffled(10, 3, torch.Generator().manual_seed(seed))
        return [b.take().tolist() for _ in range(6)]

    first = passes(0)
    assert all(len(t) == 3 for t in first)
    assert len({i for t in first[:3] for i in t}) == 9  # one pass: 3 batches of distinct indices (the 10th dropped)
    assert first == passes(0) and first != passes(1)


def test_hyperparameters_are_checked_in_one_line():
    from latentspace.samplers.planning import checked_hparams

    defaults = {"width": 8, "warmup_steps": 0, "lr": 1e-3}
    kw = {"counts": ("width",), "whole": ("warmup_steps",), "numbers": ("lr",)}
    assert checked_hparams("toy prior", {"width": 4}, defaults, {"seed"}, **kw)["width"] == 4
    for options, match in (({"depth": 2}, "unknown toy prior option"), ({"width": 0}, "positive integer"),
                           ({"warmup_steps": -1}, "non-negative integer"), ({"lr": float("nan")}, "finite"),
                           ({"width": True}, "positive integer")):
        with pytest.raises(LatentspaceError, match=match):
            checked_hparams("toy prior", options, defaults, {"seed"}, **kw)
