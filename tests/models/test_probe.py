"""The probe: a frozen (or fine-tuned) encoder under a trainable head."""
from __future__ import annotations

import pytest

from latentspace.errors import LatentspaceError
from latentspace.models.nets import Encoder
from latentspace.models.probe import Probe
from latentspace.models.probe_config import ProbeConfig, parse_features


def test_frozen_encoder_stays_in_eval_mode_while_the_head_trains():
    probe = Probe(Encoder(4), ProbeConfig(head_width=8, features="conv3,latent"), "frozen")
    probe.train()
    assert probe.head.training and not probe.encoder.training
    assert not any(p.requires_grad for p in probe.encoder.parameters())
    ft = Probe(Encoder(4), ProbeConfig(head_width=8), "finetune").train()
    assert ft.encoder.training and all(p.requires_grad for p in ft.encoder.parameters())


def test_features_are_parsed_and_checked():
    assert parse_features("latent, conv3,latent") == ("latent", "conv3")
    for bad in ("", "conv9", "latent,,x"):
        with pytest.raises(LatentspaceError, match="--features"):
            parse_features(bad)
    with pytest.raises(LatentspaceError):
        Probe(Encoder(4), ProbeConfig(features=""), "frozen")


def test_head_reads_the_chosen_features():
    import torch

    probe = Probe(Encoder(4), ProbeConfig(head_width=8, features="hidden,latent"), "frozen").eval()
    assert probe.read_features(torch.rand(3, 1, 28, 28)).shape == (3, 128 + 4)
    assert probe(torch.rand(3, 1, 28, 28)).shape == (3, 10)
