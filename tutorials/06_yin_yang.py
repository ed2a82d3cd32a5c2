"""Tutorial 6: train a spiking classifier on Yin-Yang from scratch, with exact gradients.

Run: python tutorials/06_yin_yang.py [epochs]
     (default 40 epochs of 5000 samples; SPARSEPROP_QUICK=1, as the tests set, runs 2 epochs
      on 500 samples)
Writes yinyang_curves.png (loss and accuracy per epoch) and yinyang_map.png (the decision map)
with the `plot` extra. `sparseprop train yinyang --seed 0` does the same from the command line.

The Yin-Yang data set (Kriener, Göltz & Petrovici 2021): points (x, y) of the unit square, in
three classes (yin, yang, the dots); each point is given as four features x, y, 1 - x, 1 - y.
Each feature f becomes one input spike at 10 + 30 f ms (time-to-first-spike coding), with one
more "bias" input spike at 20 ms. The network: 5 inputs -> 200 hidden -> 3 output neurons,
current-based LIF (tau_m dv/dt = I - v, tau_s dI/dt = -I, an input spike adds its weight to
I), at rest before each sample. The class is the output neuron that fires first.

Training: the loss of a sample is the cross-entropy of softmax(-t_k / tau0) over the outputs'
first spike times t_k, plus EventProp's term alpha (exp(t_label / tau1) - 1) that makes the
right output fire early (Wunderlich & Pehle 2021). Its gradient with respect to every weight
and delay is exact: each sample is simulated event by event (no time grid), and a reverse sweep
over its recorded events carries the adjoint of every neuron's state back through them. An output that
does not fire has no spike time to move: its input weights grow a little (bump) instead.
"""
import os
import sys

import numpy as np

import sparseprop as sp
from sparseprop import datasets
from sparseprop.tasks import encode_yin_yang, yin_yang_features


def main(epochs, n_train):
    # 1. Data: the canonical training and test sets (seeds 42 and 40), latency-coded.
    x_train, y_train = datasets.yin_yang(n_train, seed=42)
    x_test, y_test = datasets.yin_yang(1000, seed=40)
    print(f"training samples per class: {np.bincount(y_train)}")

    # 2. The network: an ordinary sparseprop network of populations and projections.
    net = sp.layers("lif_exp", [5, 200, 3], weight=[(6.0, 6.0), (4.0, 4.0)], seed=0,
                    parameters={"Ie": 0.0, "tau_m": 20.0, "tau_s": 5.0})
    net.set_state(state={"v": 0.0, "I": 0.0})          # every sample starts at rest
    print(f"network: {net.n} neurons, {net.csr.nnz} synapses, "
          f"populations {list(net.populations)}, inputs {net.source_slices()}")

    # 3. The trainer: batches of 32 samples, each simulated exactly in compiled code; it
    #    trains the weights and the delays (every delay starts at 0 and stays >= 0).
    trainer = sp.Trainer(net, duration=60.0, lr=5e-3, lr_decay=0.97, batch_size=32,
                         bump=5e-3, seed=0, train=("weight", "delay"))
    train = (encode_yin_yang(x_train), y_train)
    test = (encode_yin_yang(x_test), y_test)
    print(f"before training: test accuracy {trainer.evaluate(*test)[0]:.3f}")
    history = trainer.fit(*train, epochs, validation=test, progress=sys.stderr.isatty())
    for e in range(epochs):
        print(f"epoch {e + 1:3d}  loss {history.loss[e]:.4f}  training accuracy "
              f"{history.accuracy[e]:.3f}  test accuracy {history.val_accuracy[e]:.3f}  "
              f"({history.seconds[e]:.1f} s)")

    # 4. One sample in detail: the outputs' first spike times decide the class.
    times = trainer.batch.run(test[0][:1], 60.0).first_spike_times(trainer.outputs)[0]
    print(f"sample 0 (class {y_test[0]}): output first spikes {np.round(times, 3)} ms -> "
          f"class {int(np.argmin(times))}")

    # 5. Figures: training curves, and the class the network gives every point of the square.
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: install sparseprop[plot] for the figures)")
        return
    ax = history.plot()
    ax.figure.savefig("yinyang_curves.png", dpi=100)
    plt.close(ax.figure)
    grid = np.linspace(0.0, 1.0, 60)
    gx, gy = np.meshgrid(grid, grid)
    inside = (gx - 0.5) ** 2 + (gy - 0.5) ** 2 <= 0.25          # the disc of the data set
    guess = trainer.predict(encode_yin_yang(yin_yang_features(gx[inside], gy[inside])))
    classes = np.full(gx.shape, np.nan)
    classes[inside] = np.where(guess >= 0, guess, np.nan)       # -1: no output fired
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(classes, origin="lower", extent=(0, 1, 0, 1), cmap="viridis")
    ax.set_title("decision map: the class of the first output to fire")
    fig.savefig("yinyang_map.png", dpi=100)
    plt.close(fig)
    print("wrote yinyang_curves.png and yinyang_map.png")


if __name__ == "__main__":
    if os.environ.get("SPARSEPROP_QUICK") == "1":
        main(epochs=2, n_train=500)
    else:
        main(epochs=int(sys.argv[1]) if len(sys.argv) > 1 else 40, n_train=5000)
