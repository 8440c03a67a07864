#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: bash tools/_torchrun.sh NPROC SCRIPT [args]
# runs SCRIPT with NPROC processes on this machine under torchrun, with pyskl's checkout on PYTHONPATH.
#   PYTHON       the interpreter that has pyskl's dependencies (default: the first of python, python3 on PATH that
#                imports torch)
#   NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (or PORT)
#                several machines, as MMAction2's scripts take them: run the same command on each machine with its
#                NODE_RANK (0 .. NNODES-1) and the first machine's address and a free port; one machine without
#                them (torchrun picks a free port)
# When the run fails on an input error, the tools' one-line message is printed again after torchrun's report.
set -uo pipefail
NPROC=$1
shift
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    # find_spec, not an import: it answers in milliseconds where importing torch takes seconds
    for candidate in python python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
            'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)' >/dev/null 2>&1; then
            PYTHON=$candidate
            break
        fi
    done
    if [ -z "${PYTHON:-}" ]; then
        echo "error: no python on PATH imports torch: activate the environment pyskl is installed in" \
            "(. .venv/bin/activate) or set PYTHON=/path/to/its/python" >&2
        exit 2
    fi
fi
NNODES=${NNODES:-1}
MASTER_PORT=${MASTER_PORT:-${PORT:-}}
if [ "$NNODES" -gt 1 ] || [ -n "${MASTER_ADDR:-}" ] || [ -n "$MASTER_PORT" ]; then
    RDZV=(--nnodes="$NNODES" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}"
          --master_port="${MASTER_PORT:-29500}")
else
    RDZV=(--standalone)  # torchrun picks a free port
fi
ERROR_FILE=$(mktemp "${TMPDIR:-/tmp}/pyskl_error.XXXXXX")
trap 'rm -f "$ERROR_FILE"' EXIT
PYSKL_ERROR_FILE=$ERROR_FILE PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON" -m torch.distributed.run --nproc_per_node="$NPROC" "${RDZV[@]}" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP  # a background job ignores Ctrl-C: pass it on
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do  # wait was interrupted by a signal: wait for torchrun to finish
    wait "$child"
    status=$?
done
if [ "$status" -ne 0 ] && [ -s "$ERROR_FILE" ]; then
    awk '!seen[$0]++' "$ERROR_FILE" >&2  # every rank wrote the same line: print it once, last
fi
exit "$status"
