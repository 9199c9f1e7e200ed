"""`latentspace feature-net`: train the feature network behind FID, KID and precision/recall for a dataset.

For any labelled dataset, at its image shape. Seeded; writes IDENTITY.pt (a state_dict) and IDENTITY.json (its
record), IDENTITY being the dataset's `Splits.identity`, where `latentspace.models.featurenet.load_feature_net`
finds them (by default the cache's weights directory). An unlabelled set is refused in one line.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import lightning as L
import torch

from latentspace.data.images import ImageSet, Splits, load_splits
from latentspace.data.loader import batch_loader
from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root, write_json
from latentspace.models.featurenet import (
    FORMAT,
    RECIPE,
    FeatureNet,
    FeatureNetArch,
    FeatureNetModule,
    unlabelled_refusal,
)


@torch.no_grad()
def accuracy(net: FeatureNet, images: ImageSet, batch_size: int = 1000) -> float:
    net.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        idx = slice(start, start + batch_size)
        correct += int((net(images.floats(idx)).argmax(1) == images.labels[idx]).sum())
    return correct / len(images)


def train_feature_net(dataset: str = "fashion-mnist", out_dir: str | Path | None = None,
                      epochs: int = RECIPE["epochs"], batch_size: int = RECIPE["batch_size"], lr: float = RECIPE["lr"],
                      seed: int = 0, limit_train: int | None = None,
                      data_dir=None, download: bool = True, arch: FeatureNetArch | None = None,
                      shift: int = RECIPE["shift"], progress: bool = True, splits: Splits | None = None,
                      image_size: int | None = None, channels: int | None = None) -> dict:
    """Train the feature network on the whole training file (train + validation parts), seeded.

    `splits` (default: `load_splits(dataset, ...)`) are the data; `arch` defaults to the standard one for
    their image shape and classes. Writes IDENTITY.pt (state_dict) and IDENTITY.json (record) into `out_dir`
    (default: the cache's weights directory, where `load_feature_net` finds it) and returns the record.
    """
    from latentspace.runs import environment, git_commit
    from latentspace.training.trainer import quiet_lightning

    quiet_lightning()
    L.seed_everything(seed, workers=True, verbose=False)
    if splits is None:
        splits = load_splits(dataset, data_dir, download, seed=seed, image_size=image_size, channels=channels)
    dataset = splits.name
    if not splits.labelled:
        raise LatentspaceError(unlabelled_refusal(dataset, samples="samples of it"))
    if arch is None:
        arch = FeatureNetArch(num_classes=len(splits.classes), image_shape=splits.image_shape)
    if arch.image_shape != splits.image_shape or arch.num_classes != len(splits.classes):
        raise LatentspaceError(f"the feature network's architecture ({arch.num_classes} classes, "
                               f"{'x'.join(map(str, arch.image_shape))}) does not fit {dataset} "
                               f"({len(splits.classes)} classes, {'x'.join(map(str, splits.image_shape))})")
    identity = splits.identity
    full = ImageSet(torch.cat([splits.train.images, splits.val.images]),
                    torch.cat([splits.train.labels, splits.val.labels]), splits.classes, dataset)
    full = full.head(limit_train)
    loader = batch_loader(full, batch_size, shuffle=True, seed=seed, drop_last=True)
    module = FeatureNetModule(arch, lr, epochs, len(loader), seed, shift)
    module.net.to(memory_format=torch.channels_last)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, deterministic=True, logger=False,
                        enable_checkpointing=False, enable_progress_bar=progress, enable_model_summary=False,
                        num_sanity_val_steps=0)
    t0 = time.perf_counter()
    trainer.fit(module, loader)
    train_time = time.perf_counter() - t0
    net = module.net.cpu().eval()
    test_acc = accuracy(net, splits.test)

    out = Path(out_dir) if out_dir else cache_root() / "weights"
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    with atomic_path(out / f"{identity}.pt") as tmp:
        torch.save(state, tmp)
    env = environment()
    record = {
        "dataset": identity, "dataset_name": dataset, "image_shape": list(splits.image_shape), "format": FORMAT,
        "test_accuracy": round(test_acc, 5),
        "train_images": len(full), "epochs": epochs, "batch_size": batch_size, "lr": lr, "shift": shift, "seed": seed,
        "train_time_s": round(train_time, 1), "threads": torch.get_num_threads(),
        "architecture": asdict(arch), "script": "latentspace feature-net (latentspace/commands/feature_net.py)",
        "git_commit": git_commit(), "torch": env["torch"], "lightning": env["lightning"],
    }
    write_json(out / f"{identity}.json", record)
    return {**record, "weights": str(out / f"{identity}.pt")}
