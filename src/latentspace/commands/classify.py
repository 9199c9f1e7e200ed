"""`latentspace classify`: does the latent code know the class? (the study's section 2)

A run's encoder, frozen (or fine-tuned), with a two-layer head trained on the labels; or, with
`--baseline`, the same encoder architecture trained from scratch as a supervised classifier.
Everything lands in one directory (RUN/classifier/ by default):
  result.json     test accuracy, per-class accuracy, confusion matrix, parameter counts, settings
  metrics.csv     per-epoch train/validation loss and accuracy
  accuracy.png    train and validation accuracy per epoch (study fig. 5a)
  confusion.png   confusion matrix of the test set (study fig. 5b)
  checkpoints/    best.ckpt (lowest validation loss) and last.ckpt
"""
from __future__ import annotations

import dataclasses
import shutil
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from latentspace.analysis.classification import classification_metrics
from latentspace.config import validate_config
from latentspace.data.images import Splits, load_splits, run_splits
from latentspace.data.loader import ImageDataModule
from latentspace.errors import LatentspaceError
from latentspace.io import write_json
from latentspace.models.nets import Encoder
from latentspace.models.probe import Probe
from latentspace.models.probe_config import ClassifyConfig, ProbeConfig
from latentspace.runs import Run, load_run, load_weights
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import build_trainer, quiet_lightning

BASELINE_OUT = "runs/baseline-classifier"


def classify_run(path, probe: ProbeConfig | None = None, config: ClassifyConfig | None = None,
                 finetune: bool = False, out=None, progress: bool = True, splits=None, log=print) -> dict:
    """Train a head on the frozen (or, with `finetune`, fine-tuned) encoder of the run at `path`."""
    model, run = load_run(path)
    encoder = model.classifier_encoder()
    if encoder is None:
        raise LatentspaceError(f"{path}: a {model.spec.title} run has no encoder to classify with")
    if splits is None:
        splits = run_splits(run.config()["train"], limit_train=False)
    mode = "finetune" if finetune else "frozen"
    out = Path(out) if out else run.path / ("classifier-finetune" if finetune else "classifier")
    source = {"run": str(run.path), "model": run.config()["model"],
              "latent_dim": model.latent_dim}
    return train_probe(encoder, mode, splits, out, probe, config, source, progress, log)


def classify_baseline(probe: ProbeConfig | None = None, config: ClassifyConfig | None = None, out=None,
                      dataset: str = "fashion-mnist", latent_dim: int = 20, progress: bool = True, splits=None,
                      log=print) -> dict:
    """The same encoder architecture, freshly initialised and trained with the head on the labels."""
    config = config or ClassifyConfig()
    if splits is None:
        splits = load_splits(dataset, seed=config.seed)
    torch.manual_seed(config.seed)
    encoder = Encoder(latent_dim, image_shape=splits.image_shape)
    source = {"run": None, "model": "scratch", "latent_dim": latent_dim}
    return train_probe(encoder, "scratch", splits, Path(out or BASELINE_OUT), probe, config, source, progress, log)


def train_probe(encoder: Encoder, mode: str, splits: Splits, out: Path, probe: ProbeConfig | None,
                config: ClassifyConfig | None, source: dict, progress: bool = True, log=print) -> dict:
    if not splits.labelled:  # before any work: the frozen, fine-tuned and from-scratch paths all come here
        raise LatentspaceError(f"{splits.name} has no labels: `classify` trains a classifier on them, so it "
                               f"needs a labelled dataset (class subfolders for a folder of images)")
    probe = probe or ProbeConfig()
    config = config or ClassifyConfig()
    validate_config(probe)
    validate_config(config)
    quiet_lightning()
    warnings.filterwarnings("ignore", ".*module\\(s\\) in eval mode at the start of training.*")  # the frozen encoder
    L.seed_everything(config.seed, workers=True, verbose=False)
    splits = Splits(splits.train.head(config.limit_train), splits.val, splits.test.head(config.limit_test),
                      splits.classes, splits.name, splits.directory)
    model = Probe(encoder, probe, mode, num_classes=len(splits.classes))
    counts = model.parameter_counts()
    log(f"classifier ({mode} encoder) reading {', '.join(model.feature_names)}")
    for name, n, trainable in model.layer_table():
        log(f"  {name:<28} {n:>9,d}  {'trainable' if trainable else 'frozen'}")
    log(f"parameters: {counts['trainable']:,d} trainable, {counts['frozen']:,d} frozen")

    run = Run(out)
    _clear(run)
    trainer = build_trainer(TrainConfig(epochs=config.epochs, batch_size=config.batch_size, seed=config.seed,
                                        device=config.device), run, progress)
    t0 = time.time()
    trainer.fit(model, datamodule=ImageDataModule(splits, config.batch_size, config.seed))
    if trainer.interrupted:
        raise LatentspaceError("classifier training interrupted")
    train_time = time.time() - t0
    if run.best_checkpoint.is_file():
        model.load_state_dict(load_weights(run.best_checkpoint))
    model.cpu()
    logits = model.predict_logits(splits.test.floats())
    result = {
        "mode": mode,
        "source": source,
        "features": list(model.feature_names),
        **classification_metrics(logits, splits.test.labels, splits.classes),
        "best_val_loss": _float(trainer.checkpoint_callback.best_model_score),
        "parameters": counts,
        "epochs": trainer.current_epoch,
        "train_images": len(splits.train),
        "train_time_s": round(train_time, 1),
        "probe_config": dataclasses.asdict(probe),
        "classify_config": dataclasses.asdict(config),
    }
    from latentspace.figures.classification import plot_confusion
    from latentspace.figures.plots import plot_curves, read_metrics

    metrics = read_metrics(run.metrics_file)
    if "val_acc" in metrics and len(metrics["val_acc"]):
        result["final_val_accuracy"] = float(metrics["val_acc"][-1])
    what = {"frozen": "frozen encoder", "finetune": "fine-tuned encoder", "scratch": "encoder trained from scratch"}
    plot_curves(metrics, [("train_acc", "val_acc")], f"Classifier on the {what[mode]}: accuracy",
                run.path / "accuracy.png", ylabel="accuracy")
    plot_confusion(result["confusion_matrix"], splits.classes,
                   f"Test confusion matrix ({what[mode]}), accuracy {result['test_accuracy']:.4f}",
                   run.path / "confusion.png")
    result["figures"] = ["accuracy.png", "confusion.png"]
    write_json(run.path / "result.json", result)
    return {**result, "out": str(run.path)}


def _clear(run: Run) -> None:
    """A classifier directory is redone from scratch: drop the previous attempt's files (only those)."""
    for p in (run.metrics_file, run.path / "result.json"):
        p.unlink(missing_ok=True)
    for d in (run.checkpoints, run.path / "logs"):
        if d.is_dir():
            shutil.rmtree(d)


def _float(v):
    return None if v is None else float(v)


def format_result(result: dict) -> str:
    lines = [f"test accuracy: {result['test_accuracy']:.4f}  ({result['test_size']} test images, "
             f"{result['mode']} encoder, {result['parameters']['trainable']:,d} trainable / "
             f"{result['parameters']['frozen']:,d} frozen parameters)",
             "per-class accuracy:"]
    lines += [f"  {name:<12} {acc:.4f}" for name, acc in result["per_class_accuracy"].items()]
    lines.append(f"results: {result['out']}  (result.json, accuracy.png, confusion.png)")
    return "\n".join(lines)
