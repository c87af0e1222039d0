"""Run by tests/test_mnist_ddp.py under torchrun: the MNIST command line in both update orders.

    torchrun --standalone --nproc_per_node=2 tests/mnist/ddp_worker.py OUT [CLI options]

One torchrun (one start-up, about half of the test's time) serves both orders: the worker owns
the process group (re-creating one in the same process is fragile), and each order is a full
``gantheory.mnist.cli.main`` call, which uses the group it finds.
"""

import sys

import torch.distributed as dist

from gantheory.mnist.cli import main

if __name__ == "__main__":
    out, options = sys.argv[1], sys.argv[2:]
    dist.init_process_group("gloo")
    try:
        for update in ("simultaneous", "alternating"):
            rc = main([*options, "--update", update, "--out", f"{out}/{update}"])
            if rc:
                sys.exit(rc)
    finally:
        dist.destroy_process_group()
