"""Keyword spotting on SYNTHETIC speech: DS-CNN trained on the espeak-ng data set of apps/kws/dataset.py, int8 by
mcuforge's PTQ, checked on the emulated Cortex-M4.

Test sets: espeak-ng voices (accent x variant) held out from training, and Debian's flite voices (an engine the
training never heard). Both are synthetic speech: these numbers say the pipeline learns and deploys a keyword
model; they are NOT real-speech accuracy (Speech Commands, say), which can be far lower.

Columns: top-1 over 12 classes of the float PyTorch model and of the int8 graph (mcuforge's reference
interpreter, bit-exact with the generated C; the Cortex-M4 check runs the generated C on QEMU and compares).
Writes out/kws_synth/ds_cnn_float.pt (state dict and constructor arguments) and out/kws_synth/ds_cnn_int8.tflite.

    python benchmarks/kws_accuracy.py                  # recommended settings (~4-5 min on 2 busy cores)
    python benchmarks/kws_accuracy.py --quick          # tiny data and 2 epochs: a smoke test, accuracy meaningless
    python benchmarks/kws_accuracy.py --width 32 --epochs 20
    python benchmarks/kws_accuracy.py --data continuous_unknown_ratio=0   # "unknown" = isolated words only (the
                                                                          # data set before running-speech windows)
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

import mcuforge
from mcuforge.apps.kws.dataset import KwsDataConfig, kws_splits
from mcuforge.apps.kws.mfcc import model_input_quantization, quantize_features
from mcuforge.apps.kws.synth import KWS_LABELS
from mcuforge.errors import InputError
from mcuforge.frontends.tflite_export import save_tflite
from mcuforge.models.kws import DSCNN
from mcuforge.runtime.reference import run_reference

SYNTHETIC_WARNING = ("SYNTHETIC SPEECH ONLY (espeak-ng / flite): not real-speech accuracy; real recordings "
                     "(other microphones, rooms, people) are expected to score lower.")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (espeak-ng, flite)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def train_dscnn(x: np.ndarray, y: np.ndarray, width: int, blocks: int, epochs: int, lr: float, batch: int,
                seed: int) -> tuple[DSCNN, float]:
    """AdamW with a one-cycle learning rate (warm-up then cosine decay to ~0): (model in eval mode, CPU seconds:
    the wall time of an otherwise idle machine with torch on one thread)."""
    torch.manual_seed(seed)
    model = DSCNN(classes=len(KWS_LABELS), width=width, blocks=blocks)
    inputs, labels = torch.from_numpy(x[:, None]), torch.from_numpy(y)
    steps = math.ceil(len(y) / batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps, pct_start=0.15)
    generator = torch.Generator().manual_seed(seed)
    start = time.process_time()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for i in range(0, len(labels), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(inputs[idx]), labels[idx], label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval(), time.process_time() - start


@torch.no_grad()
def float_predictions(model: DSCNN, x: np.ndarray) -> np.ndarray:
    return np.concatenate([model(torch.from_numpy(x[i:i + 512, None])).argmax(1).numpy()
                           for i in range(0, len(x), 512)])


def quantize_dscnn(model: DSCNN, calibration: np.ndarray):
    """int8 graph (int8 input and output) by PTQ on `calibration` ([N, 49, 10] features)."""
    graph = mcuforge.from_torch(model, torch.zeros(1, 1, 49, 10))
    return mcuforge.quantize(graph, calibration[:, None, :, :, None].astype(np.float32), method="minmax")


def int8_inputs(graph, x: np.ndarray) -> np.ndarray:
    scale, zero_point = model_input_quantization(graph)
    return quantize_features(x, scale, zero_point).reshape(len(x), 1, 49, 10, 1)


def int8_outputs(graph, x: np.ndarray) -> np.ndarray:
    return np.stack([run_reference(graph, [q])[0].reshape(-1) for q in int8_inputs(graph, x)])


def check_on_cortex_m4(graph, x: np.ndarray) -> tuple[int, int]:
    """(records whose int8 output on the emulated Cortex-M4 equals the reference interpreter's, records)."""
    from mcuforge.targets.build import build_firmware
    from mcuforge.targets.qemu import run_qemu

    inputs = int8_inputs(graph, x)
    with tempfile.TemporaryDirectory(prefix="mcuforge-kws-") as tmp:
        build = build_firmware(graph, Path(tmp) / "build", target="cortex-m4")
        run = run_qemu(build, [[q] for q in inputs])
    reference = [run_reference(graph, [q])[0] for q in inputs]
    same = sum(np.array_equal(np.asarray(out[0]).reshape(-1), ref.reshape(-1))
               for out, ref in zip(run.outputs, reference))
    return int(same), len(inputs)


def top1(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predicted == y))


def per_class(predicted: np.ndarray, y: np.ndarray) -> list[float]:
    return [float(np.mean(predicted[y == c] == c)) if np.any(y == c) else float("nan") for c in range(len(KWS_LABELS))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=400, help="synthesized utterances per keyword (all splits)")
    parser.add_argument("--copies", type=int, default=2, help="augmented copies of each training utterance")
    parser.add_argument("--data", action="append", default=[], metavar="FIELD=YAML",
                        help="another KwsDataConfig field, e.g. --data unknown_ratio=2 --data 'stretch=[0.9, 1.1]'")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--qemu", type=int, default=50, help="test inputs checked on the emulated Cortex-M4 (0: skip)")
    parser.add_argument("--out", default="out/kws_synth")
    parser.add_argument("--cache", default="out/kws_synth/cache", help="data set cache directory ('' for none)")
    parser.add_argument("--quick", action="store_true", help="tiny data, 2 epochs: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.clips, args.epochs, args.qemu = 40, 2, min(args.qemu, 5)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    for item in args.data:
        if "=" not in item:
            parser.error(f"--data {item}: expected FIELD=VALUE")
    try:
        overrides = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.data)}
        config = KwsDataConfig.from_dict({"clips_per_keyword": args.clips, "train_copies": args.copies,
                                          "seed": args.seed, "cache_dir": args.cache or None, **overrides}, "--data")
    except (ValueError, yaml.YAMLError, InputError) as exc:
        parser.error(str(exc).splitlines()[0])
    start, cpu = time.perf_counter(), cpu_seconds()
    splits = kws_splits(config)
    data_s, data_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    counts = ", ".join(f"{name} {len(y)}" for name, (_, y) in splits.items())
    print(f"data: {counts} clips in {data_s:.0f} s wall, {data_cpu:.0f} s CPU with the synthesizers "
          f"({args.clips} utterances per keyword, {args.copies} train copies)")

    x, y = splits["train"]
    model, train_s = train_dscnn(x, y, args.width, args.blocks, args.epochs, args.lr, args.batch, args.seed)
    torch.save({"state_dict": model.state_dict(), "width": args.width, "blocks": args.blocks,
                "labels": KWS_LABELS}, out / "ds_cnn_float.pt")
    print(f"DS-CNN width {args.width} blocks {args.blocks}: {sum(p.numel() for p in model.parameters())} "
          f"parameters, {args.epochs} epochs in {train_s:.0f} s CPU ({args.threads} torch thread)")

    start = time.perf_counter()
    graph = quantize_dscnn(model, x[np.random.default_rng(args.seed).permutation(len(x))[:500]])
    save_tflite(graph, out / "ds_cnn_int8.tflite")

    rows, predictions = [], {}
    for name in [s for s in ("val", "test", "test_flite") if s in splits]:
        xs, ys = splits[name]
        float_pred = float_predictions(model, xs)
        int8_pred = int8_outputs(graph, xs).argmax(1)
        predictions[name] = (float_pred, int8_pred, ys)
        rows.append((name, len(ys), top1(float_pred, ys), top1(int8_pred, ys)))
    print(f"int8 PTQ and reference inference in {time.perf_counter() - start:.0f} s")

    print()
    print(SYNTHETIC_WARNING)
    described = {"val": "espeak-ng, unseen voices (val)", "test": "espeak-ng, unseen voices (test)",
                 "test_flite": "flite (engine never seen)"}
    print(f"{'test set':34} {'clips':>6} {'float':>7} {'int8':>7}")
    for name, n, f, q in rows:
        print(f"{described[name]:34} {n:6d} {f:7.1%} {q:7.1%}")
    print()
    names = [s for s in ("test", "test_flite") if s in predictions]
    print(f"{'class':10}" + "".join(f" {s + ' f32':>15} {s + ' int8':>15}" for s in names))
    table = {s: (per_class(predictions[s][0], predictions[s][2]), per_class(predictions[s][1], predictions[s][2]))
             for s in names}
    for c, label in enumerate(KWS_LABELS):
        print(f"{label:10}" + "".join(f" {table[s][0][c]:15.1%} {table[s][1][c]:15.1%}" for s in names))

    if args.qemu:
        same, n = check_on_cortex_m4(graph, splits["test"][0][:args.qemu])
        print(f"\nCortex-M4 (QEMU mps2-an386): {same}/{n} int8 outputs equal the reference interpreter")
        if same != n:
            return 1
    print(f"\nsaved {out / 'ds_cnn_float.pt'} and {out / 'ds_cnn_int8.tflite'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
