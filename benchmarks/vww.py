"""Visual wake words on the PyPI proxy (mcuforge/apps/vww): the zoo's MobileNetV1 trained on lfw_subset faces vs
lfw background patches and crops of the photos bundled with scikit-image and matplotlib; float and int8 test
accuracy, training time, MACs; then MLPerf Tiny's vww_96_int8 (trained on COCO persons, not on this data) run on
the same test images through the generated C camera adapter and the compiled model (host C).

    python benchmarks/vww.py [--resolution 48] [--alpha 0.25] [--epochs 30] [--copies 8] [--seed 0]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from mcuforge.apps.anomaly.detector import roc_auc
from mcuforge.apps.vww.camera import CameraAdapter
from mcuforge.apps.vww.camera_c import run_camera_model_host
from mcuforge.apps.vww.dataset import VwwDataConfig, split_sources, vww_splits
from mcuforge.apps.vww.train import (
    export_int8,
    float_accuracy,
    int8_accuracy,
    person_scores,
    train_detector,
)
from mcuforge.frontends import load_model
from mcuforge.report.layers import summary
from mcuforge.runtime.reference import run_reference

SHARED_VWW = Path(__file__).resolve().parents[2] / "shared" / "models" / "vww_96_int8.tflite"


def shared_model_on_proxy(config: VwwDataConfig, path: Path) -> dict:
    """The shared model on the proxy's test images, each fed as a 25x25 gray8 camera frame (upscaled to 96x96
    and replicated to RGB by the adapter), in C; checked against the NumPy adapter + reference interpreter."""
    graph = load_model(path)
    sources, splits = split_sources(config)
    test = [s for s, split in zip(sources, splits) if split == "test"]
    frames = [s.image[:, :, 0] for s in test]
    labels = np.array([s.label for s in test])
    side = frames[0].shape[0]
    outputs = run_camera_model_host(graph, frames, side, side, "gray8")
    adapter = CameraAdapter.for_model(graph, side, side, "gray8")
    same = all(np.array_equal(o, run_reference(graph, [adapter(f)])[0]) for o, f in zip(outputs, frames))
    scores = person_scores(graph, outputs)
    predicted = (scores > 0.5).astype(int)
    return {"accuracy": float(np.mean(predicted == labels)), "auc": roc_auc(scores[labels == 0], scores[labels == 1]), "person_recall": float(np.mean(predicted[labels == 1])),
            "no_person_recall": float(np.mean(1 - predicted[labels == 0])), "images": len(labels),
            "c_equals_reference": same, "macs": summary(graph)["total"]["macs"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=48)
    parser.add_argument("--alpha", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--copies", type=int, default=8, help="augmented copies of each training image")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-model", type=Path, default=SHARED_VWW)
    args = parser.parse_args()
    torch.set_num_threads(1)

    config = VwwDataConfig(resolution=args.resolution, train_copies=args.copies, seed=args.seed)
    start = time.time()
    splits = vww_splits(config)
    data_s = time.time() - start
    start, cpu_start = time.time(), time.process_time()
    model = train_detector(splits, alpha=args.alpha, epochs=args.epochs, lr=args.lr, seed=args.seed)
    train_s, train_cpu_s = time.time() - start, time.process_time() - cpu_start
    graph = export_int8(model, splits["train"][0][:128])
    x, y = splits["test"]
    rows = [("float32", float_accuracy(model, *splits["val"]), float_accuracy(model, x, y)),
            ("int8 (PTQ, reference)", int8_accuracy(graph, *splits["val"]), int8_accuracy(graph, x, y))]
    n = {k: len(v[1]) for k, v in splits.items()}
    print(f"VWW proxy: {n['train']} train (augmented) / {n['val']} val / {n['test']} test images, "
          f"{y.mean():.0%} person in test; data {data_s:.1f} s")
    print(f"MobileNetV1 alpha {args.alpha}, {args.resolution}x{args.resolution}x3, {args.epochs} epochs: "
          f"{summary(graph)['total']['macs'] / 1e6:.2f} M MACs, trained in {train_s:.0f} s "
          f"({train_cpu_s:.0f} s CPU, 1 thread)")
    print(f"{'model':<24}{'val acc':>9}{'test acc':>10}")
    for name, val, test in rows:
        print(f"{name:<24}{val:>9.3f}{test:>10.3f}")
    if args.shared_model.is_file():
        r = shared_model_on_proxy(config, args.shared_model)
        print(f"\nMLPerf vww_96_int8 ({r['macs'] / 1e6:.2f} M MACs) on the {r['images']} proxy test images "
              f"(25x25 gray frames -> C adapter -> C model): accuracy {r['accuracy']:.3f}, ROC AUC {r['auc']:.3f}, "
              f"person recall "
              f"{r['person_recall']:.3f}, no-person recall {r['no_person_recall']:.3f}; "
              f"C == reference: {r['c_equals_reference']}")
    else:
        print(f"\n{args.shared_model} not found: shared model skipped")


if __name__ == "__main__":
    main()
