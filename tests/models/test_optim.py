"""make_optimizer picks PyTorch's fused Adam/AdamW where it exists: the same updates, fewer ops."""
import copy

import pytest
import torch

from latentspace.models.nets import Decoder, Encoder
from latentspace.models.optim import make_optimizer


def _params():
    torch.manual_seed(0)
    return torch.nn.Sequential(Encoder(4), Decoder(4))


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fused_adam_on_cpu_matches_unfused(name):
    a = _params()
    b = copy.deepcopy(a)
    fused = make_optimizer(a.parameters(), name, 1e-3, 1e-5)
    assert fused.defaults.get("fused") is True
    plain = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](b.parameters(), lr=1e-3, weight_decay=1e-5)
    g = torch.Generator().manual_seed(1)
    for _ in range(3):  # the same gradients for both (Adam turns rounding in near-zero gradients into ±lr)
        grads = [torch.randn(p.shape, generator=g) for p in a.parameters()]
        for net, opt in ((a, fused), (b, plain)):
            for p, gr in zip(net.parameters(), grads):
                p.grad = gr.clone()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_other_optimizers_and_param_groups():
    net = _params()
    assert not make_optimizer(net.parameters(), "sgd", 0.1, 0.0).defaults.get("fused")
    assert not make_optimizer(net.parameters(), "rmsprop", 0.1, 0.0).defaults.get("fused")
    groups = [{"params": list(net[0].parameters())}, {"params": list(net[1].parameters()), "lr": 1e-4}]
    opt = make_optimizer(groups, "adam", 1e-3, 0.0)
    assert opt.defaults.get("fused") is True and opt.param_groups[1]["lr"] == 1e-4


def test_betas_reach_adam_and_unknown_names_are_refused():
    net = _params()
    opt = make_optimizer(net.parameters(), "adam", 2e-4, betas=(0.5, 0.999))
    assert opt.param_groups[0]["betas"] == (0.5, 0.999) and opt.param_groups[0]["weight_decay"] == 0.0
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer(net.parameters(), "lbfgs", 0.1)


def test_onecycle_factor_is_onecyclelr_without_momentum_cycling_and_holds_past_its_end():
    from latentspace.models.optim import LRFactor

    p = [torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.Adam(p, lr=8e-3)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=8e-3, total_steps=100, pct_start=0.4, cycle_momentum=False)
    f = LRFactor("onecycle", 100, 0.4)
    for t in range(100):
        assert opt.param_groups[0]["lr"] == pytest.approx(8e-3 * f(t), rel=1e-9, abs=1e-15)
        opt.step()
        ref.step()
    assert f(150) == f(99) == pytest.approx(1 / 25 / 1e4)  # a budget extended on resume: no error, the floor


def test_cosine_warms_up_linearly_then_anneals_to_zero_and_constant_is_flat():
    from latentspace.models.optim import LRFactor

    f = LRFactor("cosine", 10, 0.3)
    assert [f(t) for t in range(3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert all(f(t) >= f(t + 1) for t in range(2, 12)) and f(9) == pytest.approx(0.0, abs=1e-12)
    assert LRFactor("constant", 10, 0.3)(7) == 1.0
    with pytest.raises(ValueError, match="unknown schedule"):
        LRFactor("step", 10, 0.1)


def test_configure_steps_the_schedule_every_batch_over_the_trainers_budget():
    from types import SimpleNamespace

    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.models.optim import configure

    module = _params()
    module.trainer = SimpleNamespace(estimated_stepping_batches=120)
    out = configure(module, AEConfig())
    sched = out["lr_scheduler"]
    assert sched["interval"] == "step" and sched["scheduler"].lr_lambdas[0].total == 120
    assert out["optimizer"].param_groups[0]["betas"] == (0.9, 0.95)
    assert out["optimizer"].param_groups[0]["lr"] == pytest.approx(8e-3 / 25)  # the cycle starts at peak / 25
    state = sched["scheduler"].state_dict()  # what Lightning's checkpoint keeps: the curve's own total
    assert state["lr_lambdas"][0] == {"kind": "onecycle", "total": 120, "warmup": 0.4}
    study = configure(module, AEConfig(schedule="constant", lr=1e-3, beta2=0.999))
    assert isinstance(study, torch.optim.Adam) and study.param_groups[0]["lr"] == 1e-3


def test_ema_update_warms_up_then_holds_its_decay_and_copies_buffers():
    from latentspace.models.optim import ema_update

    online, average = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        online.weight.fill_(2.0)
        online.running_mean.fill_(5.0)
    ema_update(average, online, step=0, decay=0.999)  # decay min(0.999, 1/10): 90 % of the way
    assert torch.allclose(average.weight, torch.full((3,), 1.9)) and torch.equal(average.running_mean, online.running_mean)
    ema_update(average, online, step=10**6, decay=0.5)  # warmed up: the decay itself
    assert torch.allclose(average.weight, torch.full((3,), 1.95))
