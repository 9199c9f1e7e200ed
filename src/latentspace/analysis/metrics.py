"""Reconstruction metrics (MSE, PSNR, SSIM) over a split, batched; images in [0, 1]."""
from __future__ import annotations

import torch
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from latentspace.data import ImageSet


@torch.no_grad()
def reconstruction_metrics(model, images: ImageSet, batch_size: int = 1000) -> dict:
    psnr = PeakSignalNoiseRatio(data_range=1.0)
    ssim = StructuralSimilarityIndexMeasure(data_range=1.0)
    sq_err, count = 0.0, 0
    for start in range(0, len(images), batch_size):
        x = images.floats(slice(start, start + batch_size)).contiguous()
        recon = model.decode(model.encode(x)).float().clamp(0, 1).contiguous()
        sq_err += torch.sum((recon - x) ** 2, dtype=torch.float64).item()
        count += x.numel()
        psnr.update(recon, x)
        ssim.update(recon, x)
    return {"test_mse": sq_err / count, "test_psnr": float(psnr.compute()), "test_ssim": float(ssim.compute())}
