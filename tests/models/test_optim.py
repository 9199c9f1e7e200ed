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
