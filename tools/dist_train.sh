#!/usr/bin/env bash
# Train with N processes under torchrun: bash tools/dist_train.sh CONFIG N [tools/train.py options]
# GPUs: one process per GPU with NCCL. No CUDA: N CPU processes with gloo (each gets 1 thread by default).
# Several machines: NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 bash tools/dist_train.sh CONFIG N ...
# on the first, NODE_RANK=1 on the second (N processes on each). PYTHON=/path/to/python picks the interpreter
# (default: the python on PATH that imports torch). See tools/_torchrun.sh.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash tools/dist_train.sh CONFIG NUM_PROCESSES [options of tools/train.py]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$ROOT/tools/_torchrun.sh" "$NPROC" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
