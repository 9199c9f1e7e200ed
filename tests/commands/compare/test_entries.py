"""compare's entries come from the registries: a family that registers joins, learned priors are entries of their
own, and --models names them or is refused in one line."""
from __future__ import annotations

import dataclasses

import pytest

from latentspace.commands.compare.entries import all_entries, choose
from latentspace.errors import LatentspaceError


def test_entries_are_every_family_that_can_sample_by_its_default_and_each_learned_prior():
    names = [e.name for e in all_entries()]
    assert names[:6] == ["ae+gmm", "ae+flow", "vae", "vae+flow", "gan", "flow"]
    by = {e.name: e for e in all_entries()}
    assert by["ae+flow"].kind == "ae" and by["ae+flow"].learned and not by["ae+flow"].default
    assert by["vae"].sampler == "prior" and by["ae+gmm"].sampler == "gmm"
    assert "flow+flow" not in names and "flow+gmm" not in names  # invertible: its latent is its noise


def test_a_registered_family_joins_and_one_that_cannot_sample_does_not(fake_models, monkeypatch):
    from latentspace.models import MODELS

    names = [e.name for e in all_entries()]
    assert "fakevae" in names and "fakevae+flow" in names and "fakegan" in names
    mute = dataclasses.replace(MODELS["fakegan"], kind="mute", prior=None)  # no prior, no encoder: no sampler
    monkeypatch.setitem(MODELS, "mute", mute)
    assert "mute" not in [e.kind for e in all_entries()]
    # a learned prior whose sampler has not registered yet: left out, not a crash of the CLI's help
    early = dataclasses.replace(MODELS["fakegan"], kind="early", prior="learned", prior_sampler="notyet")
    monkeypatch.setitem(MODELS, "early", early)
    assert "early" not in [e.kind for e in all_entries()]


def test_models_are_chosen_in_the_order_given_and_unknown_names_listed_with_the_choices():
    assert [e.name for e in choose("gan, vae,gan")] == ["gan", "vae"]
    assert [e.name for e in choose(None)] == [e.name for e in all_entries()]
    with pytest.raises(LatentspaceError, match=r"unknown 'gmm', 'ae'; choose from ae\+gmm, ae\+flow, vae"):
        choose("vae,gmm,ae")
    with pytest.raises(LatentspaceError, match="names no model"):
        choose(" , ")
