"""The VQ-VAE's options and contract: FSQ levels, the number of codes, bounds refused in one line."""
from __future__ import annotations

import pytest

from latentspace.config import validate_config
from latentspace.errors import LatentspaceError
from latentspace.models.vqvae_config import SPEC, VQVAEConfig, parse_levels


def test_levels_give_the_number_of_codes():
    assert parse_levels("8,5,5,5") == (8, 5, 5, 5)
    assert VQVAEConfig().num_codes == 512 and VQVAEConfig(codebook_size=64).num_codes == 64
    assert VQVAEConfig(quantizer="fsq").num_codes == 1000
    assert VQVAEConfig(quantizer="fsq", levels="4,3").num_codes == 12


@pytest.mark.parametrize("text, match", [("8,x", "integers"), ("8,2", "at least 3"), ("", "integers"),
                                         ("64,64,64", "more than")])
def test_bad_levels_are_refused(text, match):
    with pytest.raises(LatentspaceError, match=match):
        parse_levels(text)
    with pytest.raises(LatentspaceError, match=match):
        validate_config(VQVAEConfig(levels=text))


@pytest.mark.parametrize("bad, match", [({"codebook_size": 1}, "--codebook-size must be at least 2"),
                                        ({"quantizer": "rvq"}, "--quantizer must be one of"),
                                        ({"ema_decay": 1.0}, r"--ema-decay must be in \[0, 1\)"),
                                        ({"commitment": -0.1}, "--commitment must be at least")])
def test_bad_values_are_one_line(bad, match):
    with pytest.raises(LatentspaceError, match=match):
        validate_config(VQVAEConfig(**bad))


def test_the_contract_says_discrete_latents_and_a_learned_prior():
    assert SPEC.discrete and SPEC.encoder and SPEC.prior == "learned" and SPEC.prior_sampler == "autoregressive"
    assert SPEC.default_sampler == "autoregressive" and SPEC.latent_field is None
    assert SPEC.run_name(VQVAEConfig()) == "vqvae"
    assert {"codebook", "code_grids", "code_swap"} <= set(SPEC.figures)
