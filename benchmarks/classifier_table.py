"""The classifier comparison of docs/classifier.md: which encoder activations, frozen vs fine-tuned vs scratch.

    python benchmarks/classifier_table.py RUN [--epochs N] [--rows latent,hidden,default,finetune,baseline]

RUN is an autoencoder trained with `latentspace train ae --epochs 10` (defaults, latent 20). Every row
trains a head with `latentspace classify`'s defaults except what the row changes, into
RUN/classifier-table/ROW; prints one JSON line per row and a final line with all of them.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from latentspace.commands.classify import classify_baseline, classify_run
from latentspace.models.probe_config import ClassifyConfig, ProbeConfig

ROWS = {
    # name: (what it is, probe changes, mode)
    "latent": ("frozen, latent only (study setting)", {"features": "latent"}, "frozen"),
    "hidden": ("frozen, 128-d hidden layer only", {"features": "hidden"}, "frozen"),
    "latent-aug": ("frozen, latent only, with augmentation",
                     {"features": "latent", "shift": 2, "flip": True}, "frozen"),
    "default-aug": ("frozen, default features, with augmentation", {"shift": 2, "flip": True}, "frozen"),
    "default": ("frozen, default features (the `classify` default)", {}, "frozen"),
    "finetune": ("fine-tuned encoder, default features", {}, "finetune"),
    "baseline": ("same architecture from scratch (supervised)", {}, "scratch"),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--epochs", type=int, default=ClassifyConfig.epochs)
    p.add_argument("--rows", default=",".join(ROWS))
    args = p.parse_args(argv)
    config = ClassifyConfig(epochs=args.epochs)
    table = []
    for name in args.rows.split(","):
        what, changes, mode = ROWS[name]
        probe = dataclasses.replace(ProbeConfig(), **changes)
        out = Path(args.run) / "classifier-table" / name
        quiet = lambda *a: None  # noqa: E731
        if mode == "scratch":
            r = classify_baseline(probe, config, out=out, progress=False, log=quiet)
        else:
            r = classify_run(args.run, probe, config, finetune=mode == "finetune", out=out, progress=False, log=quiet)
        row = {"row": name, "what": what, "features": r["features"], "mode": mode,
               "test_accuracy": round(r["test_accuracy"], 4), "trainable": r["parameters"]["trainable"],
               "frozen": r["parameters"]["frozen"], "train_time_s": r["train_time_s"]}
        print(json.dumps(row), flush=True)
        table.append(row)
    print(json.dumps({"benchmark": "classifier_table", "epochs": args.epochs, "rows": table}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
