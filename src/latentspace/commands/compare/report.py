"""The compare's report sections, from the measured scores alone: the leaderboard (no ranking by one number),
quality against minutes, samples, reconstructions and nearest training images side by side, and a "what to use"
whose every sentence is computed from the table."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.commands.study.sections import Figure, Section, Table

COLUMNS = (("entry", "model"), ("title", "family"), ("fid", "FID (ours)"), ("inception_fid", "FID (Inception)"),
           ("kid", "KID (ours)"), ("precision", "precision"), ("recall", "recall"), ("test_mse", "test MSE"),
           ("copy_share", "copies"), ("sample_seconds_per_1000", "s per 1,000 samples"), ("params", "parameters"),
           ("epochs", "epochs"), ("prior_fit_seconds", "prior fit s"), ("n_final", "samples scored"))
IMPROVING = 0.05  # a FID that fell by more than this share over the budget's second half: still improving


def leaderboard(scores: list[dict]) -> Table:
    """One row per scored entry in the order asked; a column only where some entry has it."""
    cols = [(k, name) for k, name in COLUMNS if any(s.get(k) is not None for s in scores)]
    return Table("Leaderboard (in the order asked: no single number ranks them)", [c[1] for c in cols],
                 [[s.get(k) for k, _ in cols] for s in scores])


def _best(scores, key, lowest=True):
    have = [s for s in scores if s.get(key) is not None]
    return (min if lowest else max)(have, key=lambda s: s[key]) if have else None


def disagreements(scores: list[dict]) -> list[str]:
    """Pairs of entries that FID in our features and FID in Inception's order differently."""
    have = [s for s in scores if s.get("fid") is not None and s.get("inception_fid") is not None]
    out = []
    for i, a in enumerate(have):
        for b in have[i + 1:]:
            if (a["fid"] - b["fid"]) * (a["inception_fid"] - b["inception_fid"]) < 0:
                better, worse = (a, b) if a["fid"] < b["fid"] else (b, a)
                out.append(f"{better['entry']} beats {worse['entry']} in our features (FID {better['fid']:.3g} "
                           f"against {worse['fid']:.3g}) but not in Inception's ({better['inception_fid']:.3g} "
                           f"against {worse['inception_fid']:.3g})")
    return out


def still_improving(score: dict) -> float | None:
    """The share by which the entry's curve FID fell from half its budget to its end (None: no such points)."""
    curve = {p["fraction"]: p["fid"] for p in score.get("curve") or []}
    if 0.5 not in curve or 1.0 not in curve or not curve[0.5]:
        return None
    return (curve[0.5] - curve[1.0]) / curve[0.5]


def what_to_use(scores: list[dict], minutes: float) -> list[str]:
    """Sentences computed from the measured numbers; none is written by hand about a family."""
    lines = []
    for key, space in (("fid", "our features"), ("inception_fid", "Inception's features")):
        best = _best(scores, key)
        if best:
            lines.append(f"Best FID in {space} at {minutes:g} minute(s): {best['entry']} ({best[key]:.3g}).")
    coders = [s for s in scores if not s.get("invertible")]  # an invertible model's MSE is its solver's error
    for key, what, lowest, among in (("precision", "most samples that look real (precision)", False, scores),
                                     ("recall", "most of the data's variety covered (recall)", False, scores),
                                     ("test_mse", "best reconstructions (test MSE)", True, coders),
                                     ("sample_seconds_per_1000", "fastest sampling (seconds per 1,000 images)", True,
                                      scores)):
        best = _best(among, key, lowest)
        if best:
            lines.append(f"{what[0].upper()}{what[1:]}: {best['entry']} ({best[key]:.3g}).")
    exact = [s["entry"] for s in scores if s.get("invertible") and s.get("test_mse") is not None]
    if exact:
        lines.append(f"Not counted for reconstructions: {', '.join(exact)}, invertible: its test MSE is the error "
                     f"of solving its ODE both ways, not what a code keeps of an image.")
    improving = sorted(((still_improving(s), s["entry"]) for s in scores if still_improving(s) is not None),
                       reverse=True)
    rising = [f"{name} (FID down {share:.0%})" for share, name in improving if share > IMPROVING]
    if rising:
        lines.append(f"Still improving over the second half of the budget: {', '.join(rising)}: more minutes "
                     f"would likely help {'it' if len(rising) == 1 else 'them'}.")
    elif improving:
        lines.append(f"No entry's FID fell by more than {IMPROVING:.0%} over the second half of its budget.")
    return lines


def curve_figure(scores: list[dict], path: Path, minutes: float) -> Path | None:
    """FID (ours) against training minutes, every entry on one plot (log y: FIDs differ by orders of magnitude)."""
    from latentspace.figures.plots import plt, save

    drawn = [s for s in scores if s.get("curve")]
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for s in drawn:
        c = s["curve"]
        ax.plot([p["minutes"] for p in c], [p["fid"] for p in c], marker="o", label=f"{s['entry']} (N={s['n_curve']})")
    ax.set_xlabel("training minutes (wall clock)")
    ax.set_ylabel("FID in our features (lower is better)")
    ax.set_yscale("log")
    ax.set_title(f"Quality against minutes, budget {minutes:g} min per family")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def rows_figure(out: Path, names: list[str], files: list[str], title: str, path: Path) -> Path | None:
    """Rows of saved image arrays (OUT/entries/NAME/FILE.npy), each labelled; None when there are none."""
    from latentspace.figures.plots import plot_image_rows

    rows, labels = [], []
    for name, file in zip(names, files):
        f = out / "entries" / name / f"{file}.npy"
        if f.is_file():
            rows.append(np.load(f))
            labels.append(name if file != "originals" else "test images")
    return plot_image_rows(rows, labels, title, path) if rows else None


def sections(out: Path, scores: list[dict], minutes: float, inception: int) -> list[Section]:
    """The report's sections before the per-step ones."""
    board = leaderboard(scores)
    notes = []
    if scores and all(s.get("fid") is None for s in scores):
        notes.append("No sample metrics in our features: this dataset has no feature network of ours ('latentspace "
                     "feature-net' builds one from labels); --inception N measures samples in Inception's features.")
    if inception:
        swaps = disagreements(scores)
        notes.append("The two feature spaces order the entries differently: " + "; ".join(swaps) + "." if swaps else
                     "The two feature spaces order the entries the same way.")
    else:
        notes.append("FID in one feature space only: --inception N adds Inception's, and says where the two "
                     "order the entries differently (a blurry family and a sharp one can trade places).")
    n_final = sorted({s["n_final"] for s in scores if s.get("n_final")})
    n_curve = sorted({s["n_curve"] for s in scores if s.get("n_curve")})
    notes.append(
        f"Each entry's final scores use N = {', '.join(map(str, n_final)) or '-'} samples, chosen from its measured "
        f"sampling speed so that drawing them takes at most a quarter of the budget (between 200 and 5,000); the "
        f"curve's points use N = {', '.join(map(str, n_curve)) or '-'} at every point of an entry. FID is biased "
        f"upwards at small N (KID is not), so the curve's FIDs lie above the leaderboard's; with one N per curve "
        f"the bias shifts a curve, not its slope. A learned prior (X+flow) is fitted once, on the final weights, "
        f"for a quarter of the budget more, shown apart (prior fit s): its curve has the final point only.")
    board_section = Section("leaderboard", "Leaderboard", intro=(
        f"Every family trained with its fast recipe for {minutes:g} minute(s) of wall clock on the same data, "
        f"and scored the same way. Lower is better for FID, KID, test MSE, copies (the share of samples closer to "
        f"a training image than any other training image is to it) and seconds; higher for precision (samples "
        f"that look real) and recall (the data's variety covered). Read the columns together."),
        tables=[board], notes=notes)
    use = Section("use", "What to use", intro="Computed from the leaderboard's numbers at this budget:",
                  notes=what_to_use(scores, minutes))
    out_fig = out / "figures"
    found = []
    curve = curve_figure(scores, out_fig / "quality_minutes.png", minutes)
    if curve:
        found.append(Section("curve", "Quality against minutes", figures=[Figure(str(curve), (
            "FID in our features of each entry's samples at 1/4, 1/2 and all of its budget (log scale). A curve "
            "still falling at the right end says the family would gain from more minutes."))]))
    names = [s["entry"] for s in scores]
    samples = rows_figure(out, names, ["samples"] * len(names),
                          "Samples, one row per model, from the same seed", out_fig / "samples.png")
    if samples:
        found.append(Section("samples", "Samples side by side", figures=[Figure(str(samples), (
            "Each row: the same number of images drawn by one entry from the same seed. Look for recognisable "
            "images, variety, and blur against sharpness."))]))
    with_codes = [s["entry"] for s in scores if (out / "entries" / s["entry"] / "reconstructions.npy").is_file()]
    if with_codes:
        recon = rows_figure(out, [with_codes[0], *with_codes], ["originals", *["reconstructions"] * len(with_codes)],
                            "Test images and each family's reconstructions", out_fig / "reconstructions.png")
        found.append(Section("reconstructions", "Reconstructions side by side", figures=[Figure(str(recon), (
            "Top: test images; below, each family with an encoder decodes its code of them."))]))
    nearest = [Figure(s["nearest_figure"], f"{s['entry']}: its samples closest to a training image (copies "
                                           f"{s.get('copy_share', 0):.1%})")
               for s in scores if s.get("nearest_figure") and Path(s["nearest_figure"]).is_file()]
    if nearest:
        found.append(Section("nearest", "Nearest training images", intro=(
            "The samples nearest to a training image in our features, each beside that image: a copy looks the "
            "same twice."), figures=nearest))
    return [board_section, use, *found]
