#!/usr/bin/env bash
# Test with N processes under torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT N [tools/test.py options]
# GPUs: one process per GPU with NCCL. No CUDA: N CPU processes with gloo (each gets 1 thread by default).
# Several machines: NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT as for dist_train.sh; PYTHON picks the interpreter.
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
exec bash "$ROOT/tools/_torchrun.sh" "$NPROC" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
