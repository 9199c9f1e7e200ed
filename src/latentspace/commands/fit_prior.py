"""`latentspace fit-prior RUN --kind flow`: fit a sampler on a run's training codes and keep it in the run
(RUN/samplers/KIND/), where generate, evaluate, the study, compare and the explorer find it by name."""
from __future__ import annotations

from latentspace.analysis.encode import require_encoder
from latentspace.errors import LatentspaceError
from latentspace.runs import load_run
from latentspace.samplers import check_settings, get_sampler_spec
from latentspace.samplers.store import get_sampler, sampler_dir


def fit_prior(run_path, kind: str | None = None, minutes: float | None = None, log=None, **options) -> dict:
    """Fit (again, whatever is kept) the sampler `kind` on the run's training codes, with the fit `options` it
    declares (`SamplerSpec.fit_options`, e.g. conditional=True); returns where it is and what the fit took.
    Without `kind`: the model's own learned prior (a VQ-VAE's autoregressive one), else the flow."""
    import math

    if minutes is not None and not (math.isfinite(minutes) and minutes > 0):
        raise LatentspaceError(f"--minutes must be a positive number, got {minutes}")
    model, run = load_run(run_path)
    if kind is None:
        own = model.spec.default_sampler
        kind = own if own is not None and get_sampler_spec(own).learned else "flow"
    spec = get_sampler_spec(kind)
    if not spec.saved:
        raise LatentspaceError(f"--kind {kind}: {spec.title} is not fitted on codes; nothing to fit")
    options = check_settings(kind, options, "fit_options")
    require_encoder(model, f"fitting a {spec.title} on training codes")
    sampler = get_sampler(model, kind, refit=True, minutes=minutes, log=log, **options)
    return {"path": str(sampler_dir(run, kind)), "title": spec.title, "kind": kind, **sampler.fit_info}
