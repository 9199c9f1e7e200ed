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

    from latentspace.search_space import default_space, searchable_kinds

    search = sub.add_parser("search", help="hyperparameter search with Optuna (random search as in the study)")
    search_models = search.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for kind in searchable_kinds():
        cls = MODELS[kind]
        sp = search_models.add_parser(kind, help=f"search the {kind} model's hyperparameters")
        sp.add_argument("--trials", type=int, default=30, help="trials in total, over all workers (default: 30)")
        sp.add_argument("--sampler", choices=("random", "tpe"), default="random",
                        help="random search as in the study, or TPE (default: random)")
        sp.add_argument("--epochs-per-trial", type=int, default=5, help="epochs each trial trains (default: 5)")
        sp.add_argument("--space", action="append", default=[], metavar="NAME=RANGE",
                        help="override a range: lr=1e-4:1e-2, latent_dim=8:32, optimizer=adam,sgd, init=none, "
                             "width=0.5:2:log (repeatable); searched: " + ", ".join(default_space(kind)))
        sp.add_argument("--storage", help="Optuna RDB URL shared by all workers, e.g. "
                        "postgresql://user:pass@host:5432/db (default: sqlite file OUT/study.db)")
        sp.add_argument("--study", help="study name; an existing study is joined or resumed (default: the model)")
        sp.add_argument("--workers", type=int, default=1, help="local worker processes on the study (default: 1)")
        sp.add_argument("--heartbeat", type=int, default=30, help="seconds between a running trial's heartbeats; "
                        "a trial silent for 3 times this is marked failed (default: 30)")
        sp.add_argument("--out", help=f"output directory (default: runs/search-{kind})")
        add_dataclass_flags(sp, cls.config_cls, skip=tuple(default_space(kind)))
        add_dataclass_flags(sp, TrainConfig, skip=("epochs", "max_time", "early_stopping", "devices"))
        sp.set_defaults(func=cmd_search, model_cls=cls)

    ev = sub.add_parser("evaluate", help="test metrics of a run, written to RUN/evaluation.json")
    ev.add_argument("run", help="run directory")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("data", help="locate, download and verify a dataset; print where it is")
    d.add_argument("--dataset", default="fashion-mnist", choices=tuple(DATASETS))
    d.add_argument("--data-dir")
    d.add_argument("--no-download", dest="download", action="store_false")
    d.set_defaults(func=cmd_data)
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


def cmd_search(args) -> int:
    from latentspace.search import SearchSettings, run_search
    from latentspace.train import TrainConfig

    model = {f.name: getattr(args, f.name) for f in dataclasses.fields(args.model_cls.config_cls)
             if hasattr(args, f.name)}
    settings = SearchSettings(kind=args.model, trials=args.trials, sampler=args.sampler,
                              epochs_per_trial=args.epochs_per_trial, out=args.out, storage=args.storage,
                              study=args.study, workers=args.workers, heartbeat=args.heartbeat,
                              space=tuple(args.space), model=model, train=dataclass_from_args(TrainConfig, args))
    summary = run_search(settings, log=lambda line: print(line, flush=True))
    for problem in summary["problems"]:
        print(f"latentspace: warning: {problem}", file=sys.stderr)
    t = summary["trials"]
    print(f"trials: {t['complete']} complete, {t['pruned']} pruned, {t['fail']} failed, {t['running']} running "
          f"({summary['counted']} of {summary['budget']} counted)")
    if summary["best"]:
        b = summary["best"]
        print(f"best: trial {b['number']}, validation loss {b['value']:.6g}, run {b['link'] or b['run_dir']}")
        print(summary["table1"], end="")
    print("reports: " + ", ".join(summary["files"]))
    if not summary["finished"]:
        print(f"latentspace: the budget is not spent ({summary['counted']} of {summary['budget']}); run the same "
              f"command again to finish it", file=sys.stderr)
        return 1
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
