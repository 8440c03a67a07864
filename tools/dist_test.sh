#!/usr/bin/env bash
# Test with N processes under torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT N [tools/test.py options]
# GPUs: one process per GPU with NCCL. No CUDA: N CPU processes with gloo (each gets 1 thread by default).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [options of tools/test.py]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
if [ -n "${MASTER_PORT:-}" ]; then
    RDZV=(--master_addr=127.0.0.1 --master_port="$MASTER_PORT")
else
    RDZV=(--standalone)  # torchrun picks a free port
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m torch.distributed.run \
    --nproc_per_node="$NPROC" "${RDZV[@]}" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
