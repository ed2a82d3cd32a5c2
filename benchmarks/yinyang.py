"""Yin-Yang classification with exact gradients: final-epoch test accuracy over seeds, time per
epoch and per sample; writes benchmarks/RESULTS-yinyang.md.

    python benchmarks/yinyang.py [--models lif_exp,qif,lif] [--seeds 5] [--epochs 40] [--quick]

Every seed trains the Yin-Yang task of sparseprop.tasks (5-120-3, lif_exp 5-200-3; the
canonical data sets: 5000 training, 1000 validation and 1000 test samples) for --epochs epochs
and reports the test accuracy after the last epoch (not the best epoch). References: EventProp
98.1 +- 0.2 % (Wunderlich & Pehle 2021), Fast & Deep about 95.9 % (Göltz et al. 2021).
A model may carry settings of its own after colons (`lif_exp:hidden=120`: the task's settings
with those changed, as `sparseprop.tasks.yin_yang(model=..., hidden=120)`).
--quick: 2 seeds of 3 epochs (a check that the script runs, not a result).
"""
import argparse
import ast
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine  # noqa: E402

from sparseprop import tasks  # noqa: E402


def per_sample_cost(task, repeat):
    """Forward + backward per training sample on one thread (s): batches of 32, medians."""
    trainer = task.trainer
    batch = trainer.batch
    threads, batch.threads = batch.threads, 1
    samples, labels = task.train
    times = []
    for r in range(repeat):
        rows = np.arange(r * 640, (r + 1) * 640) % len(samples)
        began = time.perf_counter()
        for lo in range(0, rows.size, 32):
            chosen = samples.take(rows[lo:lo + 32])
            result, first = trainer._times(chosen, True)
            _, dfirst = trainer._loss(first, labels[rows[lo:lo + 32]])
            batch.backward(result, trainer.outputs, dfirst, parameters=trainer.trains_parameters)
        times.append((time.perf_counter() - began) / rows.size)
    batch.threads = threads
    return statistics.median(times)


def variant(text):
    """'model:key=value:...' -> (model, {key: value}) (values as Python literals)."""
    model, *pairs = text.split(":")
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        settings[key] = ast.literal_eval(value)
    return model, settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--models", default="lif_exp,lif_exp:hidden=120,qif,lif")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds, epochs = (2, 3) if args.quick else (args.seeds, args.epochs)
    text = [
        "# Yin-Yang with exact gradients",
        "",
        f"Command: `python benchmarks/yinyang.py --models {args.models} --seeds {seeds} "
        f"--epochs {epochs}{' --quick' if args.quick else ''}`  ",
        f"Machine: {machine()}  ",
        f"Settings: sparseprop.tasks.YIN_YANG = {tasks.YIN_YANG}; per model "
        f"sparseprop.tasks.MODELS",
        "",
        "References: EventProp 98.1 +- 0.2 %, Fast & Deep about 95.9 %.",
        "",
        "| model | final-epoch test accuracy, mean +- std | seeds | s per epoch (2 threads, "
        "with validation), median | forward + backward per sample, 1 thread, trained |",
        "|---|---:|---:|---:|---:|",
    ]
    details = []
    for name in args.models.split(","):
        model, changed = variant(name)
        rows = []
        for seed in range(seeds):
            task = tasks.yin_yang(seed=seed, model=model, **changed)
            task.trainer.evaluate(*task.validation)          # (compiles before any timing)
            history = task.fit(epochs)
            accuracy = task.test_accuracy()
            rows.append((accuracy, statistics.median(history.seconds),
                         per_sample_cost(task, 3)))
            details.append(f"- {name}, seed {seed}: test {100 * accuracy:.2f} %; validation "
                           f"every 5 epochs: " + ", ".join(
                               f"{100 * a:.1f}" for a in history.val_accuracy[::5]))
            print(details[-1], flush=True)
        test = np.array([r[0] for r in rows])
        own = {**tasks.MODELS[model].get("settings", {}), **changed}
        label = model + (f" ({', '.join(f'{k} {v}' for k, v in own.items())})" if own else "")
        text.append(f"| {label} | {100 * test.mean():.2f} +- {100 * test.std():.2f} % | "
                    f"{seeds} | {statistics.median(r[1] for r in rows):.2f} | "
                    f"{1e3 * statistics.median(r[2] for r in rows):.3f} ms |")
    text += ["", "Per seed:", ""] + details
    out = Path(__file__).resolve().parent / "RESULTS-yinyang.md"
    out.write_text("\n".join(text) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
