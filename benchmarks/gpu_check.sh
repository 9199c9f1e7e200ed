#!/usr/bin/env bash
# The GPU check of issue 18, one call on one H200 (at most 9 minutes): installs what travels in .gpu/
# (benchmarks/gpu_prepare.sh makes it), runs the tests that need CUDA, then measures side by side on the GPU
# (benchmarks/gpu_bench.py: AE/VAE throughput against the seed loop on the same GPU, the DCGAN at the study's
# width and batch 128 with 300 epochs extrapolated, the quick preset end to end, the sample metrics of 10,000
# images, the full preset's estimate). Everything lands as JSON and logs under $OUT.
#   on the GPU:  bash benchmarks/gpu_check.sh            (device tool: carry [".gpu"])
#   here:        bash benchmarks/gpu_check.sh --dry-run  (tiny budgets on the CPU: checks the script)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
DRY=${1:-}
PY=${PY:-python3}
start=$(date +%s)
if [ -d .gpu/wheels ] && [ -z "$DRY" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/wheels/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
[ -d .gpu/data ] && export LATENTSPACE_DATA=$PWD/.gpu/data/fashion-mnist
export LATENTSPACE_CACHE=${LATENTSPACE_CACHE:-/tmp/latentspace-cache}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  "$PY" -c "import torch, lightning; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'lightning', lightning.__version__)"
} | tee "$OUT/machine.txt"
if [ -z "$DRY" ]; then
  "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_gpu.py 2>&1 | tee "$OUT/cuda-tests.log"
  tests=${PIPESTATUS[0]}
else
  tests=skipped
fi
seed=()
[ -f .gpu/seed_loop.py ] && seed=(--seed-loop .gpu/seed_loop.py)
"$PY" benchmarks/gpu_bench.py --out "$OUT" ${DRY:+--dry-run} "${seed[@]}" 2>&1 | tee "$OUT/bench.log"
bench=${PIPESTATUS[0]}
echo "{\"cuda_tests_exit\": \"$tests\", \"bench_exit\": $bench, \"seconds\": $(( $(date +%s) - start ))}" | tee "$OUT/check.json"
