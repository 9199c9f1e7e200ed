#!/usr/bin/env bash
# Run HERE (no GPU needed) before a lease: puts into .gpu/ (ignored by git) what the GPU machine lacks and
# benchmarks/gpu_check.sh needs there: Python 3.12 wheels of the packages its image does not hold (Optuna and
# its database layer, openTSNE, FastAPI and uvicorn), the Fashion-MNIST files, and the study's seed loop.
# Then, with the device tool: run(command="bash benchmarks/gpu_check.sh", carry=[".gpu"], timeout_s=560).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu/wheels .gpu/data/fashion-mnist
PY=${PY:-python3}
# not in the GPU image (see the device tool's KINDS.md); versions that support Python 3.12
PKGS="optuna==4.5.0 sqlalchemy==2.0.43 alembic==1.16.5 mako==1.3.10 colorlog==6.9.0 greenlet==3.2.4
      openTSNE==1.0.2 fastapi==0.116.1 starlette==0.47.3 pydantic==2.11.7 pydantic-core==2.33.2
      annotated-types==0.7.0 typing-inspection==0.4.1 uvicorn==0.35.0 filelock==3.19.1"
for pkg in $PKGS; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/wheels "$pkg"
done
cp /usr/share/datasets/fashion-mnist/*.gz .gpu/data/fashion-mnist/
cp ../shared/reference/seed_loop.py .gpu/seed_loop.py
du -sh .gpu
