"""The study's seed loop (`shared/reference/seed_loop.py`) for the autoencoder and the VAE, moved to a device the
way a user moves such code: the model to the GPU once, each batch of its per-sample DataLoader after it is made.

The networks, dataset class, optimizer and loss are imported from the reference itself (it cannot be edited,
and has no device option); only its training loop is repeated here, with `.to(device)` added. Prints the
reference's JSON line (wall_s, train_img_per_s, test_mse).

usage: python benchmarks/seed_loop_cuda.py --seed-loop PATH ae|vae --epochs N [--device cuda] [--limit N]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import time


def load_reference(path: str):
    spec = importlib.util.spec_from_file_location("seed_loop", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-loop", required=True)
    ap.add_argument("model", choices=["ae", "vae"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--latent", type=int, default=20)
    a = ap.parse_args(argv)
    ref = load_reference(a.seed_loop)
    torch, F = ref.torch, ref.F
    device = torch.device(a.device)
    torch.manual_seed(0)
    train, test = ref.FMNIST(True, a.limit), ref.FMNIST(False)
    loader = ref.DataLoader(train, batch_size=a.bs, shuffle=True)
    vae = a.model == "vae"
    enc = ref.Encoder(a.latent, 2 * a.latent if vae else None).to(device)
    dec = ref.Decoder(a.latent).to(device)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), 1e-3, weight_decay=1e-5)
    t0, seen, t_train = time.time(), 0, 0.0
    for _ in range(a.epochs):
        enc.train(), dec.train()
        t = time.time()
        for x, _ in loader:
            x = x.to(device)
            h = enc(x)
            if vae:
                mu, logvar = h.chunk(2, 1)
                z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
                kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1).mean()
                loss = F.mse_loss(dec(z), x, reduction="sum") / len(x) + kl
            else:
                loss = F.mse_loss(dec(h), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t_train += time.time() - t
    enc.eval(), dec.eval()
    with torch.no_grad():
        xt = torch.from_numpy(test.x.astype("float32") / 255.0).unsqueeze(1).to(device)
        h = enc(xt)
        z = h.chunk(2, 1)[0] if vae else h
        mse = F.mse_loss(dec(z), xt).item()
    print(json.dumps({"model": a.model, "epochs": a.epochs, "device": str(device), "wall_s": round(time.time() - t0, 2),
                      "train_img_per_s": round(seen / max(t_train, 1e-9), 1), "images_seen": seen,
                      "test_mse": round(mse, 5)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
