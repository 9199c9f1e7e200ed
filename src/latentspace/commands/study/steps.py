"""The steps of the study, in the order of the original report. Each returns a Section.

Steps only call the commands' own functions (fit, embed, generate, classify, search, ...), so
the report shows exactly what a user gets from the single commands.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from latentspace.commands.beta_sweep import BETA_SCALE_NOTE, run_beta_sweep
from latentspace.commands.classify import classify_baseline, classify_run
from latentspace.commands.embed import embed_figure
from latentspace.commands.evaluate import evaluate_run
from latentspace.commands.generate import generate_run, write_generated
from latentspace.commands.options import BetaSweepConfig
from latentspace.commands.search.run import run_search
from latentspace.commands.search.settings import SearchSettings
from latentspace.commands.study.sections import Context, Figure, Section, Step, Table
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.io import CsvLog
from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.flow_config import SPEC as FLOW_SPEC
from latentspace.models.flow_config import DEFAULT_SOLVER, FlowConfig
from latentspace.models.gan_config import SPEC as GAN_SPEC
from latentspace.models.gan_config import GANConfig
from latentspace.models.probe_config import ClassifyConfig
from latentspace.models.vae_config import VAEConfig
from latentspace.runs import Run, open_run
from latentspace.training.trainer import fit


def finished_run(path: Path) -> bool:
    try:
        open_run(path)
        return True
    except LatentspaceError:
        return False


def train_run(ctx: Context, kind: str, name: str, model_config, epochs: int, **train) -> Run:
    """Train into OUT/name unless a finished run is already there (an unfinished one is redone)."""
    path = ctx.path(name)
    if finished_run(path):
        return open_run(path)
    if path.exists():
        shutil.rmtree(path)
    # the model's own fast recipe (its batch size; the optimizer schedule is in model_config) under the preset's
    # budget, on the study's data
    cfg = ctx.train_config(kind, epochs=epochs, limit_train=ctx.preset.limit_train, **train)
    return fit(kind, model_config, cfg, out=path, progress=ctx.progress)


def workers_for(wanted: int) -> int:
    """Trainings at once: the preset's number, never more than this machine's cores."""
    return max(1, min(wanted, os.cpu_count() or 1))


def vae_run(ctx: Context, name: str, latent_dim: int, epochs: int) -> Run:
    """A VAE of the study: `train vae`'s recipe under the preset's budget."""
    return train_run(ctx, "vae", name, VAEConfig(latent_dim=latent_dim), epochs)


def fig(path, caption: str) -> Figure:
    return Figure(str(path), caption)


def run_table(run: Run, title: str) -> Table:
    s = run.summary()
    cells = {"epochs": s["epochs_completed"], "best validation loss": s["best_val_loss"],
             "train time (s)": s["train_time_s"], "images/s": s["images_per_s"], "stopped by": s["stopped_by"]}
    if s["best_val_loss"] is None:  # a GAN has no validation loss: no empty column
        del cells["best validation loss"]
    return Table(title, list(cells), [list(cells.values())])


# ---------------------------------------------------------------- 1. autoencoder, latent 20

def step_ae20(ctx: Context) -> Section:
    run = train_run(ctx, "ae", "ae-z20", AEConfig(latent_dim=20), ctx.preset.ae_epochs)
    ctx.results["ae20"] = str(run.path)
    return Section("ae20", "", intro=(
        "The study's convolutional autoencoder (three strided convolutions, two linear layers, a mirrored "
        "decoder) with a 20-dimensional code, trained on the MSE between an image and its reconstruction."),
        tables=[run_table(run, "Training")],
        figures=[fig(run.figures / "loss.png",
                     "Training and validation MSE per epoch (study fig. 3a). Look for both curves falling together: "
                     "a validation curve that turns up while training keeps falling would mean overfitting."),
                 fig(run.figures / "reconstructions.png",
                     ctx.about("One test image of each class above its reconstruction (study fig. 1a). Shapes and "
                               "silhouettes should be clear; fine texture (prints, stripes) is what a 20-number code "
                               "loses first.",
                               f"{'One test image of each class' if ctx.labelled else 'The first test images'} above "
                               f"their reconstructions (the study's fig. 1a). Outlines and large areas of colour "
                               f"should be clear; fine texture is what a 20-number code loses first."))])


# ---------------------------------------------------------------- latent maps and traversals

def maps_and_traversal(ctx: Context, run_path, what: str) -> list:
    """PCA and t-SNE maps of the test codes and a traversal of the two most spread dimensions."""
    figures = []
    for method, how in (("pca", "the two directions of largest variance (PCA)"),
                        ("tsne", "t-SNE, which keeps neighbours together but not distances")):
        r = embed_figure(run_path, method, n=ctx.preset.map_n)
        look = ctx.about("Look for classes forming their own clusters; shirts, T-shirts, pullovers and coats usually "
                         "overlap.",
                         "Look for classes forming their own clusters." if ctx.labelled else
                         "Without labels, look for structure: clusters, gaps and outliers.")
        figures.append(fig(r["figure"], f"{what}: test images' codes projected with {how}, {ctx.by_class()} "
                                        f"(study fig. {'2a' if method == 'pca' else '2b'}). {look}"))
        if method == "pca":
            spread = np.asarray(r["latent"]).std(0)
            dims = tuple(int(d) for d in np.argsort(spread)[::-1][:2])
    result = generate_run(run_path, "traverse", dims=dims, steps=10, image=0)
    out = write_generated(result, Path(run_path) / "figures" / f"traverse-{dims[0]}-{dims[1]}.png")
    figures.append(fig(out, f"{what}: starting from the first test image's code, dimensions {dims[0]} and "
                            f"{dims[1]} (the two with the largest spread) are varied over the range they take on the "
                            f"test set and decoded (study fig. 3b). Smooth changes of shape along each axis show a "
                            f"continuous latent space."))
    return figures


def step_maps(ctx: Context) -> Section:
    return Section("maps", "", intro="The autoencoder's 20-dimensional codes of the test set, mapped to two "
                                     "dimensions, and new images made by moving through the code space.",
                   # the maps and traversal of the VAE step come from the same function
                   figures=maps_and_traversal(ctx, ctx.results["ae20"], "Autoencoder, latent 20"))


def lattice_figure(ctx: Context, run: Run, what: str, fig_no: str) -> Figure:
    result = generate_run(run.path, "grid", steps=15)
    out = write_generated(result, run.figures / "lattice.png")
    like = ("like the class that occupies the same region on the left" if ctx.labelled else
            "like the test images whose codes lie in the same region on the left")
    return fig(out, f"{what}: left, the test images' 2-D codes {ctx.by_class()}; right, the decoder's output over "
                    f"a regular lattice covering them (study fig. {fig_no}). Each region of the lattice should look "
                    f"{like}.")


# ---------------------------------------------------------------- 4. autoencoder, latent 2

def step_ae2(ctx: Context) -> Section:
    run = train_run(ctx, "ae", "ae-z2", AEConfig(latent_dim=2), ctx.preset.ae_epochs)
    ctx.results["ae2"] = str(run.path)
    return Section("ae2", "", intro="The same autoencoder squeezed to a 2-dimensional code, so its latent space can "
                                    "be drawn without any projection.",
                   tables=[run_table(run, "Training")],
                   figures=[lattice_figure(ctx, run, "Autoencoder, latent 2", "4"),
                            fig(run.figures / "reconstructions.png",
                                "Reconstructions from two numbers: blurrier than with 20, but " +
                                ctx.about("the garment type survives.", "the overall shape and colour survive."))])


# ---------------------------------------------------------------- 6, 7. VAE

def step_vae20(ctx: Context) -> Section:
    run = vae_run(ctx, "vae-z20", 20, ctx.preset.vae_epochs)
    ctx.results["vae20"] = str(run.path)
    warmup = run.config()["model_config"].get("kl_warmup", 0.0)
    return Section("vae20", "", intro="A variational autoencoder on the same convolutional networks: the encoder gives "
                                      "a mean μ and a log-variance log σ² per dimension, the code is sampled "
                                      "z = μ + ε·σ, and the loss adds the KL divergence from N(0, I) to the summed "
                                      "squared reconstruction error." + kl_warmup_note(warmup),
                   tables=[run_table(run, "Training")],
                   figures=[fig(run.figures / "loss.png",
                                "Reconstruction, KL and total loss per epoch, training solid and validation dashed "
                                "(study fig. 6a). " +
                                ("The training KL starts high while its weight is small and falls as the weight "
                                 "grows; validation always weighs it fully." if warmup else
                                 "The KL term rises early as the code starts carrying information.")),
                            fig(run.figures / "reconstructions.png",
                                "Test images above their reconstructions from μ (study fig. 1b): smoother than the "
                                "autoencoder's, the price of a regular latent space."),
                            fig(run.figures / "kl_per_dim.png",
                                "Mean KL divergence of each latent dimension on the test set. Dimensions near zero "
                                "are unused (posterior collapse); the active ones carry the information."),
                            *maps_and_traversal(ctx, run.path, "VAE, latent 20")])


def kl_warmup_note(warmup: float) -> str:
    if not warmup:
        return ""
    span = "the whole run" if warmup >= 1 else f"the first {warmup:.0%} of the steps"
    return (f" Here the KL term's weight rises from 0 to β over {span} (KL warm-up; the study trained at β "
            f"throughout): the decoder learns to use the code before the KL pulls it towards the prior, which "
            f"in the same time gives both a lower reconstruction error and a better ELBO.")


def step_vae2(ctx: Context) -> Section:
    run = vae_run(ctx, "vae-z2", 2, ctx.preset.vae_epochs)
    ctx.results["vae2"] = str(run.path)
    return Section("vae2", "", intro="The VAE with a 2-dimensional code: the KL term pulls the codes towards a "
                                     "standard normal, so the lattice has no holes.",
                   tables=[run_table(run, "Training")],
                   figures=[lattice_figure(ctx, run, "VAE, latent 2", "8")])


# ---------------------------------------------------------------- 8. β sweep

def step_beta(ctx: Context) -> Section:
    p = ctx.preset
    result = run_beta_sweep(BetaSweepConfig(betas=p.betas, workers=workers_for(p.beta_workers)),
                            VAEConfig(latent_dim=20),
                            ctx.train_config("vae", epochs=p.beta_epochs, limit_train=p.limit_train),
                            out=ctx.path("beta-sweep"), progress=ctx.progress)
    rows = [[r["beta"], r["active_units"], r["total_kl"], r["test_mse"],
             ", ".join(f"z{d}" for d in r["top_dims"]),
             f"{sum(r['traversal_varies'])} of {len(r['traversal_varies'])}"] for r in result["rows"]]
    return Section("beta", "", intro="One VAE per β, everything else equal (same seed). A larger β weighs the KL term "
                                     "more: fewer active dimensions, blurrier reconstructions, and dimensions that "
                                     "each control one factor of the image. " + BETA_SCALE_NOTE,
                   tables=[Table("Active units per β", ["β", "active units (KL > 0.01 nats)", "total KL (nats)",
                                                        "test MSE", "most active dimensions",
                                                        "traversals that change the image"], rows)],
                   figures=[fig(result["figure"],
                                "For each β, one test image's most active dimensions (rows) varied over ±3σ of the "
                                "prior (columns), the others held at μ (study fig. 9). At β = 1 many dimensions "
                                "change the image a little; at the largest β few remain, each changing it a lot. "
                                "Our β multiplies a KL against a squared error summed over pixels in [0, 1]; the "
                                "study's pixels were in [0, 255], so its β = 100 is our β ≈ 0.0015 (÷ 65,025).")])


# ---------------------------------------------------------------- 2. hyperparameter search

def step_search(ctx: Context) -> Section:
    p = ctx.preset
    settings = SearchSettings(kind="ae", trials=p.search_trials, sampler="random", epochs_per_trial=p.search_epochs,
                              out=str(ctx.path("search")), workers=workers_for(p.search_workers),
                              train=ctx.train_config("ae", limit_train=p.search_limit))
    summary = run_search(settings, log=lambda m: None)
    if summary.get("best") is None:
        raise RuntimeError("no search trial completed")
    best = summary["best"]
    rows = [[k, v] for k, v in best["params"].items()] + [["validation loss", best["value"]]]
    ranking = _trials_table(ctx.path("search", "trials.csv"), list(summary["space"]))
    figures = [fig(f, caption) for f, caption in zip(
        summary["figures"],
        ["Validation loss of each trial in order, with the best so far. Random search (as in the study) does not "
         "home in: improvements come from lucky draws.",
         "How much of the variation in validation loss each hyperparameter explains (fANOVA). The study found the "
         "latent size and learning rate matter most.",
         "Each trial as a line through its hyperparameters, coloured by validation loss: where the good lines "
         "cross each axis is the good range."]) if Path(f).is_file()]
    return Section("search", "", intro=(
        f"A random search (Optuna's RandomSampler, as in the study) over the study's table-1 space: latent size, "
        f"optimizer, learning rate and weight decay on log scales, weight initialisation. {summary['budget']} trials "
        f"of {p.search_epochs} epoch(s) on {p.search_limit} training images each, hopeless trials pruned by the median "
        f"rule; the objective is validation MSE."),
        tables=[Table("Result of the hyperparameter optimization (study table 1)", ["parameter", "best value"], rows),
                ranking], figures=figures)


def _number(text: str):
    """A CSV cell as the number it holds (so the report prints it to 4 significant digits), else as it is."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _trials_table(path: Path, params: list[str]) -> Table:
    rows = CsvLog(path).rows()
    columns = ["trial", "state", "validation loss", *params]
    return Table("All trials, best first", columns,
                 [[_number(r.get(c)) for c in ("number", "state", "value", *params)] for r in rows])


# ---------------------------------------------------------------- 5. frozen-encoder classifier

def step_classifier(ctx: Context) -> Section:
    p = ctx.preset
    frozen = classify_run(ctx.results["ae20"], config=ClassifyConfig(epochs=p.classify_epochs,
                                                                      limit_train=p.limit_train, seed=ctx.seed),
                          progress=ctx.progress, log=lambda m: None)
    base = classify_baseline(config=ClassifyConfig(epochs=p.baseline_epochs, limit_train=p.limit_train,
                                                   seed=ctx.seed),
                             out=ctx.path("baseline-classifier"), dataset=ctx.dataset, progress=ctx.progress,
                             splits=run_splits(open_run(ctx.results["ae20"]).config()["train"], limit_train=False),
                             log=lambda m: None)
    ctx.results["classifier_accuracy"] = frozen["test_accuracy"]
    ctx.results["classifier_baseline_accuracy"] = base["test_accuracy"]
    rows = [["frozen autoencoder encoder + head", frozen["test_accuracy"], frozen["parameters"]["trainable"],
             frozen["parameters"]["frozen"], frozen["epochs"], frozen["train_time_s"]],
            ["same architecture from scratch (supervised)", base["test_accuracy"], base["parameters"]["trainable"],
             base["parameters"]["frozen"], base["epochs"], base["train_time_s"]]]
    per_class = [[c, frozen["per_class_accuracy"][c], base["per_class_accuracy"][c]] for c in frozen["per_class_accuracy"]]
    out = Path(frozen["out"])
    return Section("classifier", "", intro=(
        f"Does the code know the class? The autoencoder's encoder is frozen (no gradient reaches it, batch-norm "
        f"statistics fixed) and a small head reads its activations ({', '.join(frozen['features'])}) and learns the "
        f"{len(ctx.classes)} classes." + ctx.about(" The study reached 0.8557 this way; a supervised network of the same "
                                                   "shape reached 0.89.", "")),
        tables=[Table("Test accuracy", ["classifier", "test accuracy", "trainable parameters", "frozen parameters",
                                        "epochs", "train time (s)"], rows),
                Table("Per-class test accuracy", ["class", "frozen encoder", "from scratch"], per_class)],
        figures=[fig(out / "accuracy.png", "Training and validation accuracy of the head per epoch (study fig. 5a). "
                                           "Only the head learns, so the curves flatten early."),
                 fig(out / "confusion.png", "Test confusion matrix (study fig. 5b): rows are true classes, columns "
                                            "predictions. " + ctx.about(
                                                "The errors gather among the upper-body garments (shirt, T-shirt, "
                                                "pullover, coat).", "Off-diagonal cells show which classes the code "
                                                                    "confuses."))])


# ---------------------------------------------------------------- 9. DCGAN

def step_gan(ctx: Context) -> Section:
    p = ctx.preset
    run = train_run(ctx, "gan", "gan", GANConfig(g_width=p.gan_width, d_width=p.gan_width), p.gan_epochs,
                    batch_size=p.gan_batch, max_time=p.gan_max_minutes)
    ctx.results["gan"] = str(run.path)
    frames = sorted(run.progress_frames.glob("epoch_*.png"))
    figures = [fig(run.figures / "loss.png",
                   "Generator and discriminator losses per step (smoothed) and per epoch, with D(x) on real and "
                   "D(G(z)) on generated images (study fig. 10). A discriminator loss stuck near 0 would mean the "
                   "generator lost; both hovering is the healthy tug of war.")]
    if (run.figures / "progress.gif").is_file():
        figures.append(fig(run.figures / "progress.gif", "The same fixed noise decoded after every epoch (study "
                                                         "fig. 11 as an animation): blobs become " +
                           ctx.about("garments.", "pictures like the training images.")))
    figures += [fig(f, f"Fixed noise after epoch {int(f.stem.split('_')[-1]) + 1}") for f in (frames[:1] + frames[-1:])
                if f.is_file()][: 2 if len(frames) > 1 else 1]
    figures.append(fig(run.figures / "samples.png", f"64 images from fresh noise at the end (study fig. 12): look for "
                                                    f"recognisable {ctx.subject} and for variety (collapse shows as "
                                                    f"many near-identical images)."))
    study_width = GANConfig().g_width
    width = ("" if p.gan_width == study_width else
             f" Here at width {p.gan_width} (the study's is {study_width}) and batch {p.gan_batch}, so that the "
             f"preset's time budget buys more epochs: the middle layers cost the width squared, about "
             f"{(study_width / p.gan_width) ** 2:.0f} times fewer operations per image.")
    used = run.config()["model_config"]
    adam = f"Adam (lr {used['lr']:g}, β {used['beta1']:g}, {used['beta2']:g}) for both"
    study = GAN_SPEC.recipes["study"]
    if (used["lr"], used["beta1"], used["beta2"]) != (study["lr"], study["beta1"], study["beta2"]):
        adam += (f" (the study's: lr {study['lr']:g}, β {study['beta1']:g}, {study['beta2']:g}; the faster rate "
                 f"learns more per CPU-minute)")
    return Section("gan", "", intro=("The study's DCGAN: a generator of three transposed convolutions from 100 "
                                     "noise numbers, a discriminator of four convolutions, binary cross-entropy and "
                                     f"{adam}." + width),
                   tables=[run_table(run, "Training")], figures=figures)


# ---------------------------------------------------------------- flow matching (issue 24; full preset)

def step_flow(ctx: Context) -> Section:
    """The diffusion family: flow matching at its measured defaults, with its ODE's figures and an interpolation
    between two of its noises."""
    p = ctx.preset
    run = train_run(ctx, "flow", "flow", FlowConfig(**p.flow), p.flow_epochs)
    ctx.results["flow"] = str(run.path)
    model = run.config()["model_config"]
    between = write_generated(generate_run(run.path, "interpolate", steps=10, ends="samples"),
                              run.figures / "interpolate-samples.png")
    figures = [fig(run.figures / "loss.png",
                   "The flow-matching MSE per step (raw and smoothed) and per epoch. It falls fast and then slowly: "
                   "it is the error of a velocity whose target is random (noise minus image), so it never nears "
                   "zero, and its level says little about the samples; the figures below do."),
               fig(run.figures / "trajectory.png",
                   "Eight noise images carried to samples by the ODE solve: the state at t = 1 (noise), 0.75, 0.5, "
                   "0.25 and 0, each above the model's estimate of the finished image at that time. The estimates "
                   "should settle on " + ctx.about("a kind of garment", "what the picture shows") + " early (by "
                   "t = 0.75) and only sharpen after; an estimate still changing late, or a final image noisier "
                   "than the estimate above it, says the solve needs more steps (`--sample-steps`).")]
    if (run.figures / "progress.gif").is_file():
        figures.append(fig(run.figures / "progress.gif", "The same fixed noise decoded after every epoch: blurred "
                                                         "blobs become " + ctx.about("garments.", "pictures.")))
    figures += [fig(run.figures / "samples.png", f"64 images from fresh noise at the end: look for recognisable "
                                                 f"{ctx.subject} and for variety."),
                fig(between, "Between two noises (two samples' latents), straight (top) and along the great circle "
                             "(bottom), each decoded: the sample is a deterministic function of its noise, so the "
                             "images change smoothly from one to the other. The straight line's middle has a "
                             "smaller norm than the noise the model learned from; the great circle keeps it.")]
    return Section("flow", "", intro=(
        f"A diffusion-family model in pixel space: rectified flow matching, a small UNet (diffusers' UNet2DModel, "
        f"width {model['width']}) learns the velocity that carries noise to images along straight paths, and a "
        f"sample is an ODE solve from N(0, I) noise ({model['sample_steps']} "
        f"{(model['solver'] or DEFAULT_SOLVER[model['objective']]).capitalize()} "
        f"step{'s' if model['sample_steps'] != 1 else ''}). Trained with an EMA of "
        f"its weights and gradient clipping; its noise is its latent, so `encode` solves the same ODE backwards."),
        tables=[run_table(run, "Training")], figures=figures)


# ---------------------------------------------------------------- the yardstick of the sample metrics

def step_features(ctx: Context) -> Section:
    """Our feature network for this dataset: the shipped one, one built earlier (cached per dataset), or one
    trained now on the labels."""
    from latentspace.commands.feature_net import train_feature_net
    from latentspace.models.featurenet import find_feature_net, load_feature_net

    made = find_feature_net(ctx.identity) is None
    if made:
        train_feature_net(ctx.dataset, epochs=ctx.preset.feature_net_epochs, seed=ctx.seed,
                          limit_train=ctx.preset.limit_train, progress=ctx.progress, **ctx.data)
    _, meta = load_feature_net(ctx.identity, ctx.dataset, len(ctx.classes), ctx.labelled, ctx.image_shape)
    ctx.results["features"] = f"our feature network for {ctx.dataset} (test accuracy {meta['test_accuracy']:.4f})"
    how = (f"trained now for {meta['epochs']} epoch(s) on {meta['train_images']} labelled images" if made else
           "found ready (shipped with latentspace, or built earlier by `latentspace feature-net`)")
    return Section("features", "", intro=(
        f"FID, KID, precision and recall compare generated and real images in the penultimate layer of a small "
        f"classifier of {ctx.dataset}: a yardstick that knows this data (ImageNet's Inception judges small images "
        f"poorly). It was {how}."),
        tables=[Table("Feature network", ["dataset", "test accuracy", "epochs", "training images", "weights"],
                      [[ctx.dataset, meta["test_accuracy"], meta["epochs"], meta["train_images"],
                        meta["weights_sha256"][:12]]])])


# ---------------------------------------------------------------- learned priors over the codes

PRIOR_SAMPLERS = (("ae20", "AE-20", "gmm"), ("vae20", "VAE-20", "prior"))
PRIOR_SEED, PRIOR_GRID = 7, 16  # every grid of the step from the same seed: the samplers' difference, not luck's


def step_priors(ctx: Context) -> Section:
    """AE-20 and VAE-20, each drawn by its simple sampler and by a learned flow prior fitted on its training codes,
    side by side from one seed; with our features, their FIDs beside the floor (reconstructions' FID)."""
    from latentspace.commands.evaluate import sample_metrics
    from latentspace.figures.plots import plot_image_rows
    from latentspace.runs import load_run
    from latentspace.samplers import get_sampler_spec
    from latentspace.samplers.store import draw, get_sampler

    ours, n = "features" in ctx.results, ctx.preset.eval_n
    rows, labels, table = [], [], []
    for key, name, simple in PRIOR_SAMPLERS:
        model, run = load_run(ctx.results[key])
        splits = run_splits(run.config()["train"])
        get_sampler(model, "flow", train=splits.train, minutes=ctx.preset.prior_minutes)  # fitted once, kept
        measured = {}
        for sampler in (simple, "flow"):
            rows.append(draw(model, PRIOR_GRID, PRIOR_SEED, sampler).images)
            labels.append(f"{name}: {get_sampler_spec(sampler).title}")
            if ours:  # the floor once per model, with the flow
                measured[sampler] = sample_metrics(model, splits, n, seed=ctx.seed, sampler=sampler,
                                                   floor=sampler == "flow")
        if ours:
            floor = measured["flow"]["floor_fid"]
            gap = measured[simple]["fid"] - floor
            for sampler, m in measured.items():
                closed = (measured[simple]["fid"] - m["fid"]) / gap if sampler == "flow" and gap > 0 else None
                table.append([name, get_sampler_spec(sampler).title, m["fid"], m["kid"], m["precision"], m["recall"],
                              floor, closed])
    out = plot_image_rows(rows, labels, f"The same seed through each sampler ({PRIOR_GRID} samples a row)",
                          ctx.path("priors.png"))
    fitted = ctx.preset.prior_minutes
    tables = [Table("Samplers side by side", ["model", "sampler", "FID", "KID", "precision", "recall", "floor FID",
                                              "share of the gap to the floor closed"], table)] if ours else []
    return Section("priors", "", intro=(
        f"A learned prior over each model's codes (`latentspace fit-prior RUN`): a flow fitted for {fitted:g} "
        f"minute(s) on the training codes (the two-stage VAE's second stage), against each model's simple sampler "
        f"(a 10-component Gaussian mixture on the autoencoder's codes, N(0, I) for the VAE). The floor is the FID of "
        f"the model's reconstructions of training images: codes distributed exactly like the training codes decode "
        f"to them, so no prior can beat it; what lies above it is the sampler's fault, the floor itself the "
        f"decoder's."),
        tables=tables,
        figures=[fig(out, "Each row decodes codes drawn from the same seed by one sampler. Look for fewer "
                          "malformed or mixed images in the flow rows; the blur is the decoder's and stays.")])


# ---------------------------------------------------------------- 10. summary of every model

def step_summary(ctx: Context) -> Section:
    """Every model measured the same way. The sample metrics use our feature network where the features step
    found or made one (it needs labels), and InceptionV3 where the preset asks for it."""
    ours, inception = "features" in ctx.results, ctx.preset.inception_n
    n = ctx.preset.eval_n if ours else 0
    rows = []
    for key, name in (("ae20", "Autoencoder, latent 20"), ("ae2", "Autoencoder, latent 2"),
                      ("vae20", "VAE, latent 20"), ("vae2", "VAE, latent 2"), ("gan", "DCGAN"),
                      ("flow", "Flow matching")):
        path = ctx.results.get(key)
        if not path or not finished_run(Path(path)):
            continue
        m = evaluate_run(path, n=n)
        if inception:
            m.update(evaluate_run(path, n=inception, features="inception"))
        acc = ctx.results.get("classifier_accuracy") if key == "ae20" else None
        rows.append([name, m.get("test_mse"), m.get("test_psnr"), m.get("test_ssim"),
                     *([m.get("fid"), m.get("kid")] if ours else []),
                     *([m.get("inception_fid"), m.get("inception_kid")] if inception else []),
                     *([m.get("precision"), m.get("recall"), m.get("sample_seconds_per_1000")] if ours else []),
                     *([acc] if ctx.labelled else []), open_run(path).summary().get("train_time_s")])
    if not rows:
        raise RuntimeError("no finished model to summarise")
    notes = []
    if inception:
        notes.append(
            f"Inception FID and KID: {inception} samples against the first {inception} test images in InceptionV3 "
            f"pool features with the literature's protocol (grey repeated to 3 channels, TF1 bilinear resize to 299, "
            f"as TTUR, StyleGAN and clean-fid's legacy mode; docs/metrics.md). These columns compare with published "
            f"numbers at the same N" + ("; the FID and KID beside them use our feature network for this dataset, "
                                        "which judges it better but has no counterpart in the literature." if ours
                                        else "."))
    if not ours:
        notes.append(f"No FID, KID, precision or recall in our features: {ctx.dataset} has no labels, and our "
                     f"feature network is a classifier trained on them. "
                     + ("The Inception columns measure the samples instead." if inception else
                        "This preset computes no Inception features (slow on a CPU); `latentspace evaluate RUN "
                        "--features inception` measures a run's samples in them."))
    measured = (f" and {n} generated images against the test set (FID and KID in the features of "
                f"{ctx.results['features']}, precision and recall with k = 3)" if ours else "")
    return Section("summary", "", notes=notes, intro=(
        f"Every model measured the same way: reconstruction of the test set (MSE, PSNR, SSIM; not for the GAN, "
        f"which has no encoder){measured}. The autoencoders are sampled through a Gaussian mixture fitted on their "
        f"training codes, the VAEs from N(0, I), the GAN from its noise" + (
            f", the flow model by an ODE solve from its noise (its test MSE is the error of that solve run backwards "
            f"and forwards, on the first {FLOW_SPEC.encode_limit:,} test images)" if "flow" in ctx.results else "") +
        ". Lower FID/KID is better; precision is how many samples look real, recall how much of the real variety "
        "is covered."),
        tables=[Table("All models", ["model", "test MSE", "PSNR (dB)", "SSIM", *(["FID", "KID"] if ours else []),
                                     *(["Inception FID", "Inception KID"] if inception else []),
                                     *(["precision", "recall", "seconds per 1,000 samples"] if ours else []),
                                     *(["frozen-encoder accuracy"] if ctx.labelled else []), "train time (s)"],
                      rows)])


STEPS = [
    Step("ae20", "Autoencoder, latent 20", step_ae20),
    Step("search", "Random hyperparameter search", step_search),
    Step("maps", "Latent maps and traversal", step_maps, needs=("ae20",)),
    Step("ae2", "Autoencoder, latent 2", step_ae2),
    Step("classifier", "Frozen-encoder classifier", step_classifier, needs=("ae20",), needs_labels=True),
    Step("vae20", "VAE, latent 20", step_vae20),
    Step("vae2", "VAE, latent 2", step_vae2),
    Step("beta", "β sweep", step_beta),
    Step("gan", "DCGAN", step_gan),
    Step("flow", "Flow matching", step_flow, presets=("full",)),
    Step("features", "Feature network for the sample metrics", step_features, needs_labels=True),
    Step("priors", "Learned priors over the codes", step_priors, needs=("ae20", "vae20")),
    Step("summary", "Every model side by side", step_summary),
]


def steps_for(preset: str) -> list[Step]:
    """The steps of a preset's study, in order."""
    return [s for s in STEPS if not s.presets or preset in s.presets]
