#!/usr/bin/env bash
# Train with N processes under torchrun: bash tools/dist_train.sh CONFIG N [tools/train.py options]
# GPUs: one process per GPU with NCCL. No CUDA: N CPU processes with gloo (each gets 1 thread by default).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash tools/dist_train.sh CONFIG NUM_PROCESSES [options of tools/train.py]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
if [ -n "${MASTER_PORT:-}" ]; then
    RDZV=(--master_addr=127.0.0.1 --master_port="$MASTER_PORT")
else
    RDZV=(--standalone)  # torchrun picks a free port
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m torch.distributed.run \
    --nproc_per_node="$NPROC" "${RDZV[@]}" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
