"""The explorer's web app: a JSON/PNG API over served runs and one static page.

    create_app(["runs/ae-z2", "runs/ae-z20"])   # models are loaded once, here

Every bad input gets a 4xx answer with a one-line message in {"detail": ...}; never a 500.
A run is chosen by its name from the served list only, never by a path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from latentspace.analysis.latents import lerp, slerp, swap_cells
from latentspace.data.registry import MAX_SIZE
from latentspace.errors import LatentspaceError
from latentspace.explorer.served import (
    MAX_ABS_Z,
    ServedRun,
    load_served_runs,
    png_bytes,
    png_data_url,
)

STATIC = Path(__file__).parent / "static"
MAX_SAMPLES = 64       # images per /api/sample request
MAX_STEPS = 32         # images per /api/interpolate request
# longest latent vector parsed at all (the run's own latent_dim is checked after): a noise image of the largest
# pictures the networks take (3 x 128 x 128, a flow model's latent)
MAX_LATENT = 3 * MAX_SIZE * MAX_SIZE

Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS_Z, le=MAX_ABS_Z)]
Vector = Annotated[list[Coordinate], Field(min_length=1, max_length=MAX_LATENT)]
RunName = Annotated[str, Field(min_length=1, max_length=200)]
ClassIndex = Annotated[int, Field(strict=True, ge=0, le=100000)]
SamplerName = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecodeRequest(_Body):
    run: RunName
    z: Vector
    label: ClassIndex | None = None  # the class a conditional run draws


class SampleRequest(_Body):
    run: RunName
    n: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLES)] = 8
    seed: Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)] | None = None
    sampler: SamplerName | None = None  # one of the run's samplers (default: its own)
    label: ClassIndex | None = None


class InterpolateRequest(_Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    run: RunName
    # an end is a test image's index or a latent vector (a point of a 2-D map, a sample's noise)
    start: Union[Annotated[int, Field(strict=True, ge=0)], Vector] = Field(alias="from")
    end: Union[Annotated[int, Field(strict=True, ge=0)], Vector] = Field(alias="to")
    steps: Annotated[int, Field(strict=True, ge=2, le=MAX_STEPS)] = 10
    mode: Literal["linear", "spherical"] = "linear"
    label: ClassIndex | None = None


def create_app(runs, limit_test: int | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app over `runs`: run directories (loaded here, once) or ready `ServedRun`s.

    `limit_test` keeps the first N test images for the map; `allowed_hosts` (e.g. 127.0.0.1, localhost)
    refuses requests whose Host header names anything else (DNS rebinding).
    """
    paths = [r for r in runs if not isinstance(r, ServedRun)]
    loaded = iter(load_served_runs(paths, limit_test) if paths else [])
    served = [r if isinstance(r, ServedRun) else next(loaded) for r in runs]
    by_name = {r.name: r for r in served}
    if len(by_name) != len(served):
        raise ValueError("served runs must have distinct names")

    app = FastAPI(title="latentspace explorer", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.runs = by_name
    if allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    @app.exception_handler(LatentspaceError)
    async def _refused(request: Request, exc: LatentspaceError):  # e.g. a learned prior not fitted yet
        return JSONResponse({"detail": str(exc)}, status_code=409)

    def get_run(name: str) -> ServedRun:
        try:
            return by_name[name]
        except KeyError:
            raise HTTPException(404, f"unknown run {name[:80]!r}; served: {', '.join(by_name)}") from None

    def check_z(run: ServedRun, z: list[float]) -> np.ndarray:
        if len(z) != run.latent_dim:
            raise HTTPException(422, f"z must have exactly {run.latent_dim} numbers for run {run.name!r}, "
                                     f"got {len(z)}")
        if run.discrete:  # a grid of code indices: whole numbers 0..K-1
            codes = np.asarray(z, dtype=np.float64)
            if (codes != np.round(codes)).any() or codes.min() < 0 or codes.max() >= run.codebook_size:
                raise HTTPException(422, f"z of run {run.name!r} holds code indices: whole numbers "
                                         f"0..{run.codebook_size - 1}")
            return codes.astype(np.int64)
        return np.asarray(z, dtype=np.float32)

    def check_index(run: ServedRun, i: int) -> int:
        if run.codes is None:
            raise HTTPException(404, f"run {run.name!r} ({run.kind}) has no encoder, so no test-image codes; "
                                     f"give latent vectors instead")
        if not 0 <= i < len(run.codes):
            raise HTTPException(404, f"test image {i} out of range 0..{len(run.codes) - 1}")
        return i

    def end_code(run: ServedRun, end) -> np.ndarray:
        return run.code_of(check_index(run, end)) if isinstance(end, int) else check_z(run, end)

    def check_label(run: ServedRun, label: int | None) -> int | None:
        if label is None:
            return None
        if not run.conditional:
            raise HTTPException(422, f"run {run.name!r} was trained without classes: it takes no label")
        if label >= len(run.classes):
            raise HTTPException(422, f"label {label} out of range 0..{len(run.classes) - 1}")
        return label

    def check_sampler(run: ServedRun, name: str | None) -> str | None:
        if name is not None and name not in run.samplers:
            raise HTTPException(422, f"sampler {name[:40]!r} cannot draw for run {run.name!r}; it has "
                                     f"{', '.join(run.samplers) or 'none'}")
        return name

    # ------------------------------------------------------------------ page

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------------ API

    @app.get("/api/runs")
    def list_runs():
        """Served runs: name, model kind, latent size, image shape (channels, height, width), class names
        (none for an unlabelled set), what the page can offer for each."""
        return {"runs": [r.info() for r in served]}

    @app.get("/api/runs/{name}/map")
    def get_map(name: str):
        """2-D points of the test set (the latent space itself when it is 2-D), labels, test indices, classes."""
        run = get_run(name)
        if run.map is None:
            raise HTTPException(404, f"run {name!r} ({run.kind}) has no encoder, so no map of codes; "
                                     f"draw samples instead")
        return run.map_json()

    @app.get("/api/runs/{name}/image/{i}")
    def get_image(name: str, i: int):
        """Test image i (PNG, grey or RGB), its reconstruction and its latent code; class_name is null in an
        unlabelled set (label -1)."""
        run = get_run(name)
        i = check_index(run, i)
        z = run.code_of(i)
        label = int(run.test.labels[i])
        recon = run.decode(z[None], label if run.conditional else None)[0]
        return {"run": run.name, "index": i, "label": label, "class_name": run.class_name(label),
                "z": _values(run, z), "image": png_data_url(run.test.arrays(i)),
                "reconstruction": png_data_url(recon)}

    @app.post("/api/decode", response_class=Response,
              responses={200: {"content": {"image/png": {}}, "description": "the decoded image"}})
    async def decode(req: DecodeRequest):
        """decode(z) as a PNG. Run on the event loop itself: one small decode (about a millisecond) costs
        less than the hand-over to a worker thread and back, which dominates the latency on a busy CPU."""
        run = get_run(req.run)
        image = run.decode(check_z(run, req.z)[None], check_label(run, req.label))[0]
        return Response(png_bytes(image), media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/sample")
    def sample(req: SampleRequest):
        """n images from a sampler of the run (its own by default), each with its latent (flattened)."""
        run = get_run(req.run)
        if not run.can_sample:
            raise HTTPException(400, f"run {run.name!r} ({run.kind}) has no prior to sample from; "
                                     f"click the map instead")
        z, images = run.sample(req.n, req.seed, check_sampler(run, req.sampler), check_label(run, req.label))
        return {"run": run.name, "images": [{"z": _values(run, zi), "png": png_data_url(im)}
                                            for zi, im in zip(z, images)]}

    @app.post("/api/interpolate")
    def interpolate(req: InterpolateRequest):
        """`steps` images from one end to the other (test indices or latent vectors), both ends included; for
        grids of code indices the cells switch from one end's codes to the other's (mode "cells")."""
        run = get_run(req.run)
        a, b = end_code(run, req.start), end_code(run, req.end)
        if run.discrete:  # no codes lie between two codes: the cells switch from A's to B's
            z, mode = swap_cells(a, b, req.steps), "cells"
        else:
            z, mode = (slerp(a, b, req.steps) if req.mode == "spherical" else lerp(a, b, req.steps)), req.mode
        images = run.decode(z, check_label(run, req.label))
        return {"run": run.name, "mode": mode,
                "images": [{"t": float(t), "z": _values(run, zi), "png": png_data_url(im)}
                           for t, zi, im in zip(np.linspace(0, 1, req.steps), z, images)]}

    return app


def _values(run: ServedRun, z) -> list:
    """A latent as JSON numbers: whole numbers for code indices, floats otherwise."""
    return [int(v) for v in z] if run.discrete else [float(v) for v in z]


def _one_line(exc: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one readable line (values are not echoed back in full)."""
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ())]
        loc = ".".join(loc[1:] if loc[:1] == ["body"] and err.get("type") != "json_invalid" else loc) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
