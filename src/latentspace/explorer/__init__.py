"""`latentspace explore RUN ...`: a local web page to click around a latent space (FastAPI + one static page)."""
