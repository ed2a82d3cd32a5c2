"""Tutorial 1: declare a neuron model in equations and look at what sparseprop derives.

Run: python tutorials/01_declare_a_model.py   (writes qif_ptc.png with the `plot` extra)

1. Declare a quadratic integrate-and-fire (QIF) neuron with thresholds at infinity.
2. Read the derivation: phase map, inverse, period, phase transition curve (PTC).
3. Check the derivation against a hand-made oracle: state -> jump -> phase.
4. The theta neuron is the same model on a circle: its PTC is the QIF's.
5. The same model declared with units (tau = 10 ms) derives the same kernels.
"""
import math

import numpy as np

import sparseprop

# 1. The model: tau dv/dt = v**2 + I; v runs off to +inf (a spike) and restarts at -inf.
qif = sparseprop.NeuronModel("dv/dt = (v**2 + I)/tau : 1",
                             threshold="v >= inf", reset="v = -inf", on_pre="v += w",
                             parameters={"I": 0.1, "tau": 10.0}, name="qif")

# 2. The derivation, as a teacher would write it on the board.
print(qif.explain())

# 3. Compile and check: the PTC is "state of the phase, plus the jump, back to a phase".
k = qif.compile()
T = k.period()
print(f"\nperiod T = {T:.6f} ms (pi*tau/sqrt(I) = {math.pi * 10 / math.sqrt(0.1):.6f})")
phases = np.linspace(0.05, 0.95, 7) * T
by_hand = k.phase(k.state(phases) - 0.05)
print("max |PTC - phase(state + w)| =", np.max(np.abs(k.ptc(phases, -0.05) - by_hand)))

# 4. The theta neuron (v = tan(theta/2)) has the same phase dynamics.
theta = sparseprop.load_model("theta")
print("theta PTC - QIF PTC:", np.max(np.abs(theta.compile().ptc(phases, -0.05) - k.ptc(phases, -0.05))))

# 5. The same model with units: tau is a time (sparseprop.units, on SymPy's units). The
#    dimensions are checked (v**2 + I is a pure number, so dv/dt is 1/time), then tau becomes
#    10 (ms), so the derivation and the kernels are those above.
qif_units = sparseprop.NeuronModel("dv/dt = (v**2 + I)/tau : 1", threshold="v >= inf",
                                   reset="v = -inf", on_pre="v += w",
                                   parameters={"I": 0.1, "tau": "10 ms"}, name="qif")
same = np.array_equal(qif_units.compile().ptc(phases, -0.05), k.ptc(phases, -0.05))
print(f"\nwith units: tau = {qif_units.parameters['tau']} ms; the same PTC: {same}")
assert same

try:
    import matplotlib
except ImportError:
    print("(install the plot extra, pip install 'sparseprop[plot]', for a plot of the PTC)")
else:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = np.linspace(0, T, 400)
    for w in (-0.3, -0.1, 0.1, 0.3):
        plt.plot(grid, k.ptc(grid, w) - grid, label=f"w = {w}")
    plt.xlabel("phase before input (ms)")
    plt.ylabel("phase shift PTC - phase (ms)")
    plt.legend()
    plt.savefig("qif_ptc.png", dpi=120)
    print("wrote qif_ptc.png")
