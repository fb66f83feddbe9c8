#!/usr/bin/env bash
# The GPU benchmark: `python -m tlcore bench --json --device cuda` on one CUDA GPU, with the
# device's name. Mixed precision and channels_last are on for ours and for the baselines.
# Sized for about 3 minutes on one H100 (the limit is 5; not yet timed on one). Offline: random
# weights and a generated dataset.
# Usage: bench/gpu.sh [OUT.json]   (the JSON goes to stdout, and to OUT.json if given;
# progress goes to stderr)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
out="${1:-}"

if command -v nvidia-smi >/dev/null 2>&1; then
  echo "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -n 1)" >&2
else
  echo "device: nvidia-smi not found" >&2
fi
"$PY" -c 'import torch, sys; ok = torch.cuda.is_available(); print(f"torch {torch.__version__}, CUDA available: {ok}" + (f", {torch.cuda.get_device_name(0)}" if ok else ""), file=sys.stderr); sys.exit(0 if ok else 1)' \
  || { echo "error: no CUDA GPU visible to torch; run this on a machine with one" >&2; exit 1; }

start=$(date +%s)
json=$(PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m tlcore bench --json --device cuda)
echo "$json"
if [[ -n "$out" ]]; then echo "$json" > "$out"; fi
echo "bench/gpu.sh: $(( $(date +%s) - start )) s${out:+; JSON in $out}" >&2
