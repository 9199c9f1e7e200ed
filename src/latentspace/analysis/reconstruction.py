"""How well a model gives its test images back: MSE, PSNR and SSIM through its code, and, for a Gaussian
posterior, the terms of the ELBO. Batched; images in [0, 1]."""
from __future__ import annotations

import torch
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from latentspace.analysis.activity import active_units
from latentspace.data.images import ImageSet


@torch.no_grad()
def reconstruction_metrics(model, images: ImageSet, batch_size: int = 1000) -> dict:
    """decode(encode(x)) against x (a Gaussian posterior decodes its mean μ)."""
    psnr = PeakSignalNoiseRatio(data_range=1.0)
    ssim = StructuralSimilarityIndexMeasure(data_range=1.0)
    sq_err, count = 0.0, 0
    for start in range(0, len(images), batch_size):
        part = slice(start, start + batch_size)
        x, c = images.floats(part).contiguous(), model.condition(images.labels[part])
        recon = model.decode(model.encode(x.to(model.device), c), c).float().cpu().clamp(0, 1).contiguous()
        sq_err += torch.sum((recon - x) ** 2, dtype=torch.float64).item()
        count += x.numel()
        psnr.update(recon, x)
        ssim.update(recon, x)
    return {"test_mse": sq_err / count, "test_psnr": float(psnr.compute()), "test_ssim": float(ssim.compute())}


@torch.no_grad()
def elbo_terms(model, test: ImageSet, batch_size: int = 1000, seed: int = 0) -> dict:
    """The test set's ELBO terms, from the model's own `loss_terms`: reconstruction (through a sampled z,
    seeded), KL, the β-weighted loss, and the active units (mean KL per dimension above the threshold)."""
    g = torch.Generator(device=model.device).manual_seed(seed)
    recon, loss, kl_sum, n = 0.0, 0.0, None, 0
    for start in range(0, len(test), batch_size):
        part = slice(start, start + batch_size)
        x = test.floats(part).to(model.device)
        t = model.loss_terms(x, model.condition(test.labels[part]), generator=g)
        recon += float(t["recon"]) * len(x)
        loss += float(t["loss"]) * len(x)
        kl_sum = t["kl_per_dim_sum"] if kl_sum is None else kl_sum + t["kl_per_dim_sum"]
        n += len(x)
    per_dim = (kl_sum / n).cpu()
    return {"test_recon": recon / n, "test_kl": float(per_dim.sum()), "test_loss": loss / n,
            "test_active_units": active_units(per_dim.numpy())}
