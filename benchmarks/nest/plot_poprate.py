"""Population rate (300-500 ms) and its power spectrum per regime, from brunel_nest.py's JSON.

    /work/nest-venv/bin/python benchmarks/nest/plot_poprate.py benchmarks/nest/brunel_nest_full.json \
        benchmarks/nest/brunel_nest_poprate.png
(any Python with numpy and matplotlib; the NEST venv has both)
"""
import json
import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
rs = json.load(open(src))["results"]
fig, ax = plt.subplots(len(rs), 2, figsize=(11, 2 * len(rs)), squeeze=False,
                       gridspec_kw=dict(width_ratios=[2, 1]))
for k, r in enumerate(rs):
    p = np.array(r["pop_rate_all_Hz"])
    t = np.arange(p.size) * r["pop_rate_bin_ms"]
    m = (t >= 300) & (t < 500)
    ax[k, 0].plot(t[m], p[m], lw=0.7)
    ax[k, 0].set_ylabel(f"{r['regime']}\nHz")
    ax[k, 0].set_title(f"{r['regime']} (g={r['g']:g}, eta={r['eta']:g}): rate "
                       f"{r['rate_all_Hz']:.1f} Hz, mean ISI CV {r['cv_isi_mean_all']:.2f}",
                       fontsize=9)
    q = p[t >= r["transient_ms"]]
    q = q - q.mean()
    f = np.fft.rfftfreq(q.size, r["pop_rate_bin_ms"] / 1000.0)
    ax[k, 1].semilogy(f[1:], (np.abs(np.fft.rfft(q)) ** 2)[1:], lw=0.6)
    ax[k, 1].set_xlim(0, 500)
ax[-1, 0].set_xlabel("t (ms), population rate of E and I together, 1 ms bins")
ax[-1, 1].set_xlabel("Hz (power spectrum after the transient)")
fig.tight_layout()
fig.savefig(dst, dpi=72)
