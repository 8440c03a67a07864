#!/usr/bin/env bash
# Two streams of the quickstart (joint and bone) trained and tested with 2 processes each, then fused as PYSKL
# does (softmax probabilities, joint : bone = 1 : 1). Run from the repository root inside the README's venv:
#   bash examples/quickstart_two_streams.sh [NUM_PROCESSES]
set -euo pipefail
GPUS=${1:-2}
ANN=data/synthetic/ntu3d.pkl
[ -f "$ANN" ] || python tools/data/make_synthetic.py --kind ntu3d --out "$ANN"
OUTS=()
for STREAM in j b; do
    CONFIG=configs/quickstart/stgcn++_synthetic_ntu3d_${STREAM}.py
    WORK_DIR=work_dirs/quickstart/stgcn++_synthetic_ntu3d_${STREAM}
    bash tools/dist_train.sh "$CONFIG" "$GPUS" --validate --work-dir "$WORK_DIR"
    BEST=$(ls -t "$WORK_DIR"/best_*.pth | head -1)
    bash tools/dist_test.sh "$CONFIG" "$BEST" "$GPUS" --eval top_k_accuracy mean_class_accuracy \
        --out "$WORK_DIR/result.pkl"
    OUTS+=("$WORK_DIR/result.pkl")
done
python tools/ensemble.py --scores "${OUTS[@]}" --weights 1 1 --ann "$ANN" --split val
