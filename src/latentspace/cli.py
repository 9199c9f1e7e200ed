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

    from latentspace.betasweep import BetaSweepConfig
    from latentspace.models.vae import VAEConfig

    bs = sub.add_parser("beta-sweep", help="one VAE per β, then latent traversals side by side (study fig. 9)")
    add_dataclass_flags(bs, BetaSweepConfig)
    add_dataclass_flags(bs, VAEConfig, skip=("beta",))
    add_dataclass_flags(bs, TrainConfig)
    bs.add_argument("--out", help="sweep directory; re-running with the same arguments reuses its finished runs "
                                  "(default: runs/beta-sweep)")
    bs.add_argument("--no-progress", action="store_true", help="no progress bar")
    bs.set_defaults(func=cmd_beta_sweep)

    add_latent_commands(sub)

    d = sub.add_parser("data", help="locate, download and verify a dataset; print where it is")
    d.add_argument("--dataset", default="fashion-mnist", choices=tuple(DATASETS))
    d.add_argument("--data-dir")
    d.add_argument("--no-download", dest="download", action="store_false")
    d.set_defaults(func=cmd_data)
    st = sub.add_parser("study", help="the whole study, every step, as one HTML report")
    st.add_argument("--preset", default="quick", choices=("smoke", "quick", "full"),
                    help="budget: smoke (seconds a step), quick (about 15 minutes on 2 cores), full (GPU)")
    st.add_argument("--out", default="study", help="output directory (default: study)")
    st.add_argument("--force", action="store_true", help="redo every step, even finished ones")
    st.add_argument("--dataset", default="fashion-mnist", choices=tuple(DATASETS))
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--progress", action="store_true", help="show each training's progress bar")
    st.set_defaults(func=cmd_study)
    return p


def cmd_study(args) -> int:
    from latentspace.study import run_study

    report, sections = run_study(args.preset, args.out, args.force, args.dataset, args.seed, args.progress)
    failed = [s for s in sections if s.status != "done"]
    print(f"report: {report}")
    if failed:
        print(f"latentspace: error: {len(failed)} step(s) did not finish: " +
              ", ".join(f"{s.title} ({s.status})" for s in failed), file=sys.stderr)
        return 1
    return 0


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


def cmd_beta_sweep(args) -> int:
    from latentspace.betasweep import BetaSweepConfig, run_beta_sweep
    from latentspace.models.vae import VAEConfig
    from latentspace.train import TrainConfig

    result = run_beta_sweep(dataclass_from_args(BetaSweepConfig, args), dataclass_from_args(VAEConfig, args),
                            dataclass_from_args(TrainConfig, args), out=args.out, progress=not args.no_progress,
                            log=print)
    print(open(result["table"]).read().rstrip())
    print(f"figure: {result['figure']}")
    return 0


def cmd_data(args) -> int:
    from latentspace.data import load_splits

    splits = load_splits(args.dataset, args.data_dir, args.download)
    print(f"{args.dataset}: {splits.directory}")
    print(f"  train {len(splits.train) + len(splits.val)} images ({len(splits.train)} train + {len(splits.val)} "
          f"validation), test {len(splits.test)}, {len(splits.classes)} classes: {', '.join(splits.classes)}")
    return 0


def _ints(text: str) -> tuple:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def _floats(text: str) -> tuple:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def add_latent_commands(sub) -> None:
    """`embed` (latent maps) and `generate` (traversals, lattices, prior samples, interpolations)."""
    from latentspace.analysis.embed import METHODS
    from latentspace.generation import MODES

    em = sub.add_parser("embed", help="map a split's latent codes to 2-D (PCA, t-SNE, UMAP), cached in RUN/embeddings")
    em.add_argument("run", help="run directory")
    em.add_argument("--method", default="pca", choices=METHODS, help="projection (default: pca)")
    em.add_argument("--split", default="test", choices=("train", "val", "test"), help="images to map (default: test)")
    em.add_argument("--n", type=int, help="a seeded sample of N images (default: the whole split)")
    em.add_argument("--out", help="figure .png (default: RUN/figures/embedding-METHOD.png)")
    em.set_defaults(func=cmd_embed)

    ge = sub.add_parser("generate", help="new images: traverse two latent dimensions, a 2-D lattice, prior "
                                         "samples, interpolations")
    ge.add_argument("run", help="run directory")
    ge.add_argument("--mode", required=True, choices=MODES)
    ge.add_argument("--dims", type=_ints, default=(0, 1), help="traverse: dimensions i,j to vary (default: 0,1)")
    ge.add_argument("--steps", type=int, default=10, help="values per axis, or along an interpolation (default: 10)")
    ge.add_argument("--image", type=int, default=0, help="traverse: the test image to start from (default: 0)")
    ge.add_argument("--bounds", type=_floats, help="grid: x0,x1,y0,y1 (default: a square covering the test codes)")
    ge.add_argument("--n", type=int, default=64, help="prior: number of samples (default: 64)")
    ge.add_argument("--from", dest="src", type=int, default=0, help="interpolate: first test image (default: 0)")
    ge.add_argument("--to", dest="dst", type=int, default=1, help="interpolate: last test image (default: 1)")
    ge.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ge.add_argument("--out", help="FILE.png (a labelled figure) or FILE.npy (N x 28 x 28 uint8 images); "
                                  "default: RUN/figures/generate-MODE.png")
    ge.set_defaults(func=cmd_generate)


def cmd_embed(args) -> int:
    from latentspace.generation import embed_figure

    r = embed_figure(args.run, args.method, split=args.split, n=args.n, out=args.out)
    print(f"{r['method']} map of {len(r['points'])} {args.split} images "
          f"({'reused' if r['cached'] else 'written'}): {r['path']}")
    print(f"figure: {r['figure']}")
    return 0


def cmd_generate(args) -> int:
    from latentspace.generation import default_out, generate_run, write_generated

    r = generate_run(args.run, args.mode, dims=args.dims, steps=args.steps, image=args.image, bounds=args.bounds,
                     n=args.n, src=args.src, dst=args.dst, seed=args.seed)
    out = write_generated(r, args.out or default_out(args.run, args.mode, args.dims))
    print(f"{len(r['images'])} images: {out}")
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
