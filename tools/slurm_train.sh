#!/usr/bin/env bash
# Train under Slurm, one task per GPU: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [tools/train.py options]
#   GPUS (8)            tasks in all (GPUs over all nodes)
#   GPUS_PER_NODE (8)   tasks (GPUs) per node
#   CPUS_PER_TASK (5)   CPU cores per task (dataloader workers)
#   SRUN_ARGS           more srun options (e.g. --quotatype=auto)
#   GRES (gpu:GPUS_PER_NODE)  srun's --gres; empty on a CPU-only cluster (gloo)
#   PYTHON (python)     the interpreter with pyskl's dependencies, on every node
# Each task reads its rank from Slurm (--launcher slurm); the first node of the allocation is the rendezvous
# (MASTER_ADDR, MASTER_PORT=29500 unless set). As MMAction2's tools/slurm_train.sh.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [options of tools/train.py]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
GRES=${GRES-gpu:$GPUS_PER_NODE}  # GRES= (empty) on a CPU-only cluster
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" srun -p "$PARTITION" --job-name="$JOB_NAME" \
    ${GRES:+--gres="$GRES"} --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 $SRUN_ARGS \
    "${PYTHON:-python}" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "$@"
