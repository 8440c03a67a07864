#!/usr/bin/env bash
# Train under Slurm, one task per GPU: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [tools/train.py options]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, GRES and PYTHON: see tools/_srun.sh.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [options of tools/train.py]" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$ROOT/tools/_srun.sh" "$1" "$2" "$ROOT/tools/train.py" "${@:3}"
