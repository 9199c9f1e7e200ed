"""Command line: parses, calls one function, prints. No logic of its own.

Model flags come from each model's config dataclass and training flags from TrainConfig, so a
new model or option needs no change here.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing

from latentspace.errors import LatentspaceError

_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr, exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_dataclass_flags(parser, cls, skip=()) -> None:
    """One flag per dataclass field: --field-name, typed from the annotation, help/choices from metadata."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        tp = hints.get(f.name, f.type)
        tp = _TYPES.get(getattr(tp, "__name__", str(tp)), tp)
        if tp is bool:
            if f.default:
                parser.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                                    help=f"do not {meta.get('help', f.name)}")
            else:
                parser.add_argument(flag, dest=f.name, action="store_true", help=meta.get("help"))
            continue
        default = f"(default: {f.default})" if f.default is not None else ""
        parser.add_argument(flag, dest=f.name, type=tp, default=f.default, choices=meta.get("choices"),
                            help=f"{meta.get('help', '')} {default}".strip())


def dataclass_from_args(cls, args):
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def build_parser() -> argparse.ArgumentParser:
    from latentspace.data import DATASETS
    from latentspace.models import MODELS
    from latentspace.train import TrainConfig

    p = _Parser(prog="latentspace", description="Train, measure and explore generative models on small images.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a model into a run directory")
    models = train.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for kind, cls in MODELS.items():
        mp = models.add_parser(kind, help=(cls.__doc__ or "").strip().splitlines()[0])
        add_dataclass_flags(mp, cls.config_cls)
        add_dataclass_flags(mp, TrainConfig)
        mp.add_argument("--out", help="run directory (default: runs/KIND-zLATENT-TIMESTAMP)")
        mp.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
        mp.add_argument("--no-progress", action="store_true", help="no progress bar")
        mp.set_defaults(func=cmd_train, model_cls=cls)

    ev = sub.add_parser("evaluate", help="test metrics of a run, written to RUN/evaluation.json")
    ev.add_argument("run", help="run directory")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("data", help="locate, download and verify a dataset; print where it is")
    d.add_argument("--dataset", default="fashion-mnist", choices=tuple(DATASETS))
    d.add_argument("--data-dir")
    d.add_argument("--no-download", dest="download", action="store_false")
    d.set_defaults(func=cmd_data)

    ex = sub.add_parser("explore", help="a local web page: click the latent map, move sliders, see the decoder answer")
    ex.add_argument("runs", nargs="+", metavar="RUN", help="run directories (several: a run switcher)")
    ex.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    ex.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    ex.add_argument("--limit-test", type=int, help="map only the first N test images")
    ex.set_defaults(func=cmd_explore)
    return p


def cmd_train(args) -> int:
    from latentspace.train import TrainConfig, fit

    run = fit(args.model, dataclass_from_args(args.model_cls.config_cls, args),
              dataclass_from_args(TrainConfig, args), out=args.out, resume=args.resume,
              progress=not args.no_progress)
    if run.finished:
        s = run.summary()
        print(f"run: {run.path}")
        print(f"best validation loss: {s['best_val_loss']}  epochs: {s['epochs_completed']}  "
              f"train time: {s['train_time_s']} s  ({s['images_per_s']} images/s)")
        print("figures: " + ", ".join(str(run.path / f) for f in s["figures"]))
    return 0


def cmd_evaluate(args) -> int:
    from latentspace.evaluate import evaluate_run

    results = evaluate_run(args.run)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for k, v in results.items():
            print(f"{k:>24}: {v:.6g}" if isinstance(v, float) else f"{k:>24}: {v}")
    return 0


def cmd_data(args) -> int:
    from latentspace.data import load_splits

    splits = load_splits(args.dataset, args.data_dir, args.download)
    print(f"{args.dataset}: {splits.directory}")
    print(f"  train {len(splits.train) + len(splits.val)} images ({len(splits.train)} train + {len(splits.val)} "
          f"validation), test {len(splits.test)}, {len(splits.classes)} classes: {', '.join(splits.classes)}")
    return 0


def cmd_explore(args) -> int:
    from latentspace.explorer.serve import serve

    return serve(args.runs, host=args.host, port=args.port, limit_test=args.limit_test)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LatentspaceError as e:
        print(f"latentspace: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("latentspace: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
