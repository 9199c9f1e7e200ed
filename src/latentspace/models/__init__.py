"""Model registry: name -> LightningModule class. A new model is one file and one line here."""
from latentspace.models.autoencoder import Autoencoder
from latentspace.models.vae import VAE

MODELS = {cls.kind: cls for cls in (Autoencoder, VAE)}
