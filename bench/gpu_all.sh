#!/usr/bin/env bash
# Every GPU figure in one go, on a CUDA machine (issue 17): the benchmark (mixed precision and
# channels_last on both sides, our decoded images on the GPU from epoch 2 on), the real-photo flow
# (efficientnet_lite0, head and full, with throughput), images kept on the GPU after epoch 1, and DDP
# on 1 GPU against all visible GPUs (when there are several). Offline: generated data, random or
# packaged weights. Sized to finish within about 8 minutes on one H200 (not yet timed on one); each
# part is bounded, and the JSON is rewritten after each part, so a part that runs out of time leaves
# the figures of the others.
# Usage: bench/gpu_all.sh [OUT.json]   (default test-output/gpu_all.json; progress on stderr)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
out="${1:-test-output/gpu_all.json}"
limit_s="${GPU_ALL_LIMIT_S:-480}"
mkdir -p "$(dirname "$out")"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader | sed 's/^/device: /' >&2
else
  echo "device: nvidia-smi not found" >&2
fi
"$PY" -c 'import torch, sys; ok = torch.cuda.is_available(); print(f"torch {torch.__version__}, CUDA available: {ok}" + (f", {torch.cuda.device_count()} GPU(s): {torch.cuda.get_device_name(0)}" if ok else ""), file=sys.stderr); sys.exit(0 if ok else 1)' \
  || { echo "error: no CUDA GPU visible to torch; run this on a machine with one" >&2; exit 1; }
"$PY" -c 'import tlcore.models as m, sys; sys.exit(0 if "efficientnet_lite0" in m.list_models() else 1)' 2>/dev/null \
  || echo "note: efficientnet_lite0 is not in this build: the real-photo flow will be skipped (it says so in the JSON)" >&2

start=$(date +%s)
status=0
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout --signal=TERM --kill-after=20 "$limit_s" \
  "$PY" -m tlcore.bench.gpu_all --out "$out" --device cuda "${@:2}" >/dev/null || status=$?
if [[ -s "$out" ]]; then cat "$out"; fi
if [[ $status -eq 124 ]]; then echo "bench/gpu_all.sh: stopped at the ${limit_s} s limit; $out holds the parts that finished" >&2; fi
echo "bench/gpu_all.sh: $(( $(date +%s) - start )) s; JSON in $out" >&2
exit $status
