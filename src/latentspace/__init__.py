"""latentspace: train, measure and explore autoencoders, VAEs and GANs on small image datasets.

    import latentspace as ls
    run = ls.train("ae", latent_dim=2, epochs=5)
    model = ls.load_run(run.path)
    images = ls.sample(model, 64)
    metrics = ls.evaluate(run.path)

`ls.models.MODELS` is the model registry (`ls.models.register` adds one). `import latentspace` is
instant: the functions import torch and Lightning when they are called. See docs/api.md.
"""
__version__ = "0.1.0"
__all__ = ["datasets", "embed", "evaluate", "load_run", "sample", "train"]  # and `models`: the registry


def __getattr__(name):
    import importlib

    if name in ("datasets", "models"):  # subpackages, imported when first asked for
        return importlib.import_module(f"latentspace.{name}")
    if name in __all__:
        return getattr(importlib.import_module("latentspace.api"), name)
    raise AttributeError(f"module 'latentspace' has no attribute {name!r}")
