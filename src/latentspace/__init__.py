"""latentspace: train, measure and explore autoencoders, VAEs and GANs on small image datasets."""
__version__ = "0.1.0"
