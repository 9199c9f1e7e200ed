"""Batches for Lightning: one indexing op each, a shuffle that is a function of seed and epoch."""
from __future__ import annotations

import torch

from latentspace.data.images import load_splits
from latentspace.data.loader import EpochSeededSampler, batch_loader


def test_batches_are_float_in_unit_range_and_cover_an_epoch():
    s = load_splits(download=False, limit_train=1000)
    loader = batch_loader(s.train, 256, shuffle=True, seed=1)
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [256, 256, 256, 232]
    x, y = batches[0]
    assert x.dtype == torch.float32 and x.shape == (256, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64
    seen = torch.cat([yy for _, yy in batches])
    assert torch.equal(seen.sort().values, s.train.labels.sort().values)


def test_shuffle_is_a_function_of_seed_and_epoch():
    sampler = EpochSeededSampler(100, seed=5)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first and first != second and sorted(first) == list(range(100))


def test_validation_batches_shrink_with_the_image_size():
    from latentspace.data.images import ImageSet
    from latentspace.data.loader import eval_batch_size

    def of(c, h):
        return ImageSet(torch.zeros(1, h, h, c, dtype=torch.uint8), torch.zeros(1, dtype=torch.long), ())

    assert eval_batch_size(of(1, 28)) == 1024 and eval_batch_size(of(3, 64)) == 196
    assert eval_batch_size(of(3, 128)) == 64
