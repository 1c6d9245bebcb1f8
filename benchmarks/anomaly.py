"""Vibration anomaly detection on the simulated machine (mcuforge/apps/anomaly): ROC AUC per fault type of the
float autoencoder and of its int8 build run on the emulated Cortex-M4 (QEMU; host C when QEMU is missing), plus
the BasicMotions held-out-activity sanity check.

    python benchmarks/anomaly.py [--train 600] [--test 200] [--no-qemu]"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mcuforge.apps.anomaly import FAULTS, simulated_feature_sets
from mcuforge.apps.anomaly.detector import (
    export_int8,
    fit_detector,
    int8_scores,
    quantize_inputs,
    reference_outputs,
    roc_auc,
)


def run_int8(graph, records, use_qemu: bool):
    with tempfile.TemporaryDirectory(prefix="anomaly-bench-") as tmp:
        if use_qemu:
            from mcuforge.targets.build import build_firmware
            from mcuforge.targets.qemu import run_qemu

            return run_qemu(build_firmware(graph, Path(tmp) / "fw", name="anomaly"), records).outputs, "QEMU cortex-m4"
        from mcuforge.codegen.host import build_host, run_host
        from mcuforge.codegen.project import compile_model

        compiled = compile_model(graph, Path(tmp) / "lib", name="anomaly")
        return run_host(build_host(compiled.outdir, compiled.name), graph, records), "host C"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=600, help="normal training clips")
    parser.add_argument("--test", type=int, default=200, help="test clips per class")
    parser.add_argument("--no-qemu", action="store_true", help="run the int8 model as host C")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.time()

    train, val, test = simulated_feature_sets(args.train, args.test, args.test)
    detector = fit_detector(train, val)
    graph = export_int8(detector, train)
    use_qemu = not args.no_qemu and shutil.which("qemu-system-arm") is not None
    records = {fault: quantize_inputs(graph, detector, x) for fault, x in test.items()}
    flat = [r for fault in FAULTS for r in records[fault]]
    outputs, engine = run_int8(graph, flat, use_qemu)
    reference = reference_outputs(graph, flat)
    exact = all(np.array_equal(a[0], b[0]) for a, b in zip(outputs, reference))
    scores_int8, pos = {}, 0
    for fault in FAULTS:
        n = len(records[fault])
        scores_int8[fault] = int8_scores(graph, records[fault], outputs[pos:pos + n])
        pos += n
    scores_float = {fault: detector.scores(x) for fault, x in test.items()}
    val_records = quantize_inputs(graph, detector, val)
    threshold_int8 = float(np.percentile(int8_scores(graph, val_records, reference_outputs(graph, val_records)), 99))

    print(f"Simulated machine: {args.train} normal training clips, {args.test} test clips per class "
          f"(0.64 s at 6.4 kHz, radial + axial), 64 log band energies; threshold = 99th percentile of validation")
    print(f"int8 model run on {engine}: outputs bit-exact with the reference interpreter: {exact}\n")
    print(f"| {'fault':<13}| AUC float | AUC int8 | detected float | detected int8 |")
    print(f"|{'-' * 14}|-----------|----------|----------------|---------------|")
    for fault in FAULTS[1:]:
        auc_f = roc_auc(scores_float["normal"], scores_float[fault])
        auc_q = roc_auc(scores_int8["normal"], scores_int8[fault])
        det_f = np.mean(scores_float[fault] > detector.threshold)
        det_q = np.mean(scores_int8[fault] > threshold_int8)
        print(f"| {fault:<13}| {auc_f:9.4f} | {auc_q:8.4f} | {det_f:14.1%} | {det_q:13.1%} |")
    fpr_f = np.mean(scores_float["normal"] > detector.threshold)
    fpr_q = np.mean(scores_int8["normal"] > threshold_int8)
    print(f"| {'normal (FPR)':<13}| {'':9} | {'':8} | {fpr_f:14.1%} | {fpr_q:13.1%} |")

    try:
        from mcuforge.apps.anomaly.basic_motions import (
            held_out_activity_auc,
            load_basic_motions,
        )

        x, y = load_basic_motions()
    except ImportError:
        print("\nBasicMotions: sktime not installed (pip install sktime)")
    else:
        print("\nBasicMotions (sktime; 6-axis IMU at 10 Hz): train on 3 activities, the 4th is the anomaly")
        print("| held-out activity | AUC float |\n|-------------------|-----------|")
        aucs = []
        for activity in sorted(set(y)):
            aucs.append(held_out_activity_auc(x, y, activity))
            print(f"| {activity:<18}| {aucs[-1]:9.4f} |")
        print(f"| {'mean':<18}| {np.mean(aucs):9.4f} |")
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
