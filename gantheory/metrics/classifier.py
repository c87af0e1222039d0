"""The MNIST classifier behind the MNIST-native metrics: a small CNN, trained once and cached.

Inception features mean little on 28x28 digits, so the toolkit trains its own feature extractor,
a small CNN (two 3x3 convs of 16 and 32 channels, each followed by 2x2 max-pooling, batch norm and
ReLU; then fc(128)-ReLU, the features; then fc(10)), with Adam on the 50,000 training images::

    from gantheory.mnist import load
    from gantheory.metrics.classifier import get_classifier
    clf = get_classifier(load())           # trains (about 2 min on 2 CPU cores) or loads the cache
    clf.features(x), clf.predict(x)        # x: (n, 784) pixels in [0, 1]
    clf.meta["test_accuracy"]              # measured on the 10,000 test images after training

The weights are cached in ``$GANTHEORY_DATA`` (else ``~/.cache/gantheory``) as
``classifier-<key>.pt``, ``key`` a SHA-256 of the config, the training and test data and
``FORMAT``. The file is a ``torch.save`` dict (readable with ``weights_only=True``) that records
the SHA-256 of its weights and of its metadata; it is written atomically (temporary file, fsync,
``os.replace``) and verified on load. A file that does not verify gives a warning and is
retrained, never used.

Training is deterministic given the config: weights come from ``torch.manual_seed(seed)`` inside
``torch.random.fork_rng`` (the caller's RNG state is untouched), the shuffling from its own
generator, and ``torch.use_deterministic_algorithms`` and ``threads`` (default 1) are set only
while training. Two trainings give bitwise-equal weights; another torch build or CPU may round
differently, so metrics record the digest of the weights they used (``Classifier.digest``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..util.io import atomic_write, tensor_digest
from ..errors import ConfigError, DataError, SpecError
from ..mnist.data import cache_dir
from ..util.rng import seed_generator

FORMAT = "gantheory.classifier/1"  # bump when build_net or training changes: it is in the key
SIDE, N_CLASSES = 28, 10
EVAL_BATCH = 1000  # images per forward pass when scoring; fixed, so features are reproducible


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Training setup; every field enters the cache key. ``n_train=None``: all training images."""

    seed: int = 0
    epochs: int = 3
    lr: float = 3e-3  # Adam's step size, decayed linearly to 0 over the whole run
    batch: int = 128
    width: int = 16  # channels of the first conv; the second has 2 * width
    hidden: int = 128  # the penultimate layer: the dimension k of the features
    n_train: int | None = None
    # torch threads while training: the weights depend on it (summation order), so it is part of
    # the config; 1 thread was also 2.5x faster than 2 on a loaded 2-core machine.
    threads: int = 1

    def check(self) -> None:
        for name in ("epochs", "batch", "width", "hidden", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be finite and > 0, got {self.lr}")
        if self.n_train is not None and self.n_train < 1:
            raise ConfigError(f"n_train must be >= 1 or None, got {self.n_train}")


def build_net(cfg: ClassifierConfig) -> nn.Sequential:
    """The CNN; ``net[:-1]`` maps images to the ``cfg.hidden`` features, ``net[-1]`` to logits."""
    w = cfg.width
    return nn.Sequential(
        nn.Unflatten(1, (1, SIDE, SIDE)),
        nn.Conv2d(1, w, 3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(w), nn.ReLU(),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * w * (SIDE // 4) ** 2, cfg.hidden), nn.ReLU(),
        nn.Linear(cfg.hidden, N_CLASSES),
    )


def as_images(x: Any, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``x`` as ``dtype`` images ``(n, 784)``: uint8 means ``v / 255``; floats must be in [0, 1]."""
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    t = t.to(dtype) / 255 if t.dtype == torch.uint8 else t.to(dtype)
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] != SIDE * SIDE:
        raise SpecError(f"images must have shape (n, {SIDE * SIDE}) with n >= 1, "
                        f"got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()) or float(t.min()) < 0 or float(t.max()) > 1:
        raise SpecError("image pixels must be finite and in [0, 1] (as in load().train.x())")
    return t


class Classifier:
    """A trained net (in eval mode) and ``meta``: config, test accuracy, time, weights digest."""

    def __init__(self, net: nn.Sequential, meta: dict[str, Any]):
        self.net, self.meta = net.eval(), meta

    @property
    def digest(self) -> str:
        """SHA-256 of the weights: two classifiers with the same digest give the same features."""
        return self.meta["weights_sha256"]

    @torch.inference_mode()
    def features_and_predictions(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features, float64 ``(n, k)``, and predicted classes, int64 ``(n,)``."""
        t = as_images(x)
        feats = torch.cat([self.net[:-1](t[lo:lo + EVAL_BATCH])
                           for lo in range(0, t.shape[0], EVAL_BATCH)])
        pred = self.net[-1](feats).argmax(dim=1)
        return feats.double().numpy(), pred.numpy()

    def features(self, x: Any) -> np.ndarray:
        """Penultimate-layer features (after the ReLU), float64 of shape ``(n, cfg.hidden)``."""
        return self.features_and_predictions(x)[0]

    def predict(self, x: Any) -> np.ndarray:
        """The most likely digit of each image, int64 of shape ``(n,)``."""
        return self.features_and_predictions(x)[1]


def cache_key(data: Any, cfg: ClassifierConfig) -> str:
    """SHA-256 (16 hex digits) of ``FORMAT``, the config, the train and test images and labels."""
    h = hashlib.sha256(json.dumps([FORMAT, dataclasses.asdict(cfg)], sort_keys=True).encode())
    for t in (data.train.x_u8, data.train.y, data.test.x_u8, data.test.y):
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cache_file(key: str) -> Path:
    """Where the classifier with cache key ``key`` lives (``$GANTHEORY_DATA`` is read now)."""
    return cache_dir() / f"classifier-{key}.pt"


def train_classifier(data: Any, cfg: ClassifierConfig = ClassifierConfig()) -> Classifier:
    """Train the CNN on ``data.train`` (cross-entropy, Adam), then score it on ``data.test``."""
    cfg.check()
    n = len(data.train) if cfg.n_train is None else min(cfg.n_train, len(data.train))
    x, y = data.train.x()[:n], data.train.y[:n]
    shuffle = seed_generator(cfg.seed, "classifier-shuffle")
    steps, step = cfg.epochs * math.ceil(n / cfg.batch), 0
    was_det = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    threads = torch.get_num_threads()
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        torch.use_deterministic_algorithms(True)
        # NaN-filling fresh buffers is a debugging aid of deterministic mode, not needed for it;
        # it took an eighth of the step time here.
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.set_num_threads(cfg.threads)
        try:
            net = build_net(cfg)
            opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
            for _ in range(cfg.epochs):
                order = torch.randperm(n, generator=shuffle)
                for lo in range(0, n, cfg.batch):
                    idx = order[lo:lo + cfg.batch]
                    opt.param_groups[0]["lr"] = cfg.lr * (1 - step / steps)
                    loss = F.cross_entropy(net(x[idx]), y[idx])  # -mean log softmax(logits)[y]
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    step += 1
        finally:
            torch.use_deterministic_algorithms(was_det, warn_only=warn_only)
            torch.utils.deterministic.fill_uninitialized_memory = fill
            torch.set_num_threads(threads)
    train_s = time.perf_counter() - start
    clf = Classifier(net, {})
    acc = float((torch.from_numpy(clf.predict(data.test.x_u8)) == data.test.y).double().mean())
    clf.meta.update(config=dataclasses.asdict(cfg), n_train=n, test_accuracy=acc,
                    train_seconds=round(train_s, 2), torch=str(torch.__version__),
                    weights_sha256=tensor_digest(net.state_dict()))
    return clf


def _file_sha256(key: str, meta: dict[str, Any]) -> str:
    """Digest of the file's other entries; ``meta`` holds the weights' own digest."""
    return hashlib.sha256(json.dumps([FORMAT, key, meta], sort_keys=True).encode()).hexdigest()


def save_classifier(clf: Classifier, path: Path, key: str) -> None:
    """Write ``clf`` to ``path`` atomically, with the digests :func:`load_classifier` checks."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "key": key, "meta": clf.meta, "state_dict": clf.net.state_dict(),
                "sha256": _file_sha256(key, clf.meta)}, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buf.getvalue())


def load_classifier(path: Path, key: str, cfg: ClassifierConfig) -> Classifier:
    """Read and verify a cache file; anything wrong with it raises :class:`DataError`."""
    try:
        obj = torch.load(io.BytesIO(path.read_bytes()), weights_only=True)
        meta, state = obj["meta"], obj["state_dict"]
        if obj["format"] != FORMAT or obj["key"] != key:
            raise ValueError(f"format/key {obj['format']}/{obj['key']}, expected {FORMAT}/{key}")
        if meta["config"] != dataclasses.asdict(cfg):
            raise ValueError(f"config {meta['config']} is not {dataclasses.asdict(cfg)}")
        if tensor_digest(state) != meta["weights_sha256"]:
            raise ValueError("the weights do not match their recorded SHA-256")
        if _file_sha256(key, meta) != obj["sha256"]:
            raise ValueError("the metadata do not match their recorded SHA-256")
        net = build_net(cfg)
        net.load_state_dict(state, strict=True)
    # A damaged file can fail anywhere in unzip, unpickle or lookup: each way means "retrain".
    except Exception as exc:  # noqa: BLE001
        why = " ".join(str(exc).split())[:300]
        raise DataError(f"{path}: {type(exc).__name__}: {why}") from exc
    return Classifier(net, meta)


def get_classifier(data: Any, cfg: ClassifierConfig = ClassifierConfig(),
                   cache: bool = True) -> Classifier:
    """The classifier for ``data`` and ``cfg``: from the cache if a verified file is there, else
    trained (and cached when ``cache``). A cache file that fails verification warns and is
    replaced; a failure to write the cache only warns."""
    cfg.check()
    if not cache:
        return train_classifier(data, cfg)
    key = cache_key(data, cfg)
    path = cache_file(key)
    if path.exists():
        try:
            return load_classifier(path, key, cfg)
        except DataError as exc:
            warnings.warn(f"corrupt classifier cache, retraining: {exc}", stacklevel=2)
    clf = train_classifier(data, cfg)
    try:
        save_classifier(clf, path, key)
    except OSError as exc:
        warnings.warn(f"could not cache the classifier in {path}: {exc}", stacklevel=2)
    return clf
