"""Plots (the `plot` extra): every plot renders a PNG that is not blank; the command line plots
a saved result; bad input is a ModelError."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop import plot
from sparseprop.cli import main
from sparseprop.train import History

matplotlib = pytest.importorskip("matplotlib", reason="plots need the plot extra (matplotlib)")
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def drawn_fraction(path):
    """The fraction of pixels of a PNG that are not white (background)."""
    image = matplotlib.image.imread(path)[..., :3]
    return float(np.mean(np.any(image < 0.95, axis=-1)))


def assert_drawn(ax, path, lines=1):
    plot.save(ax, path)
    assert path.exists() and path.stat().st_size > 5000
    data = sum(np.size(line.get_xdata()) for line in ax.get_lines())
    assert len(ax.get_lines()) >= lines and data > 0
    assert drawn_fraction(path) > 0.02        # axes, labels and the data itself


@pytest.fixture(scope="module")
def result():
    """An E/I network with a source, its states recorded."""
    pops = [spp.Population("E", 80, parameters={"I": 1.2}),
            spp.Population("I", 20, parameters={"I": 1.2}),
            spp.SpikeSource("stim", 2, [0, 1, 0], [5.0, 10.0, 20.0])]
    net = spp.build_network("lif", pops, [
        spp.Projection("E", "I", spp.fixed_outdegree(5, 0.05, seed=1)),
        spp.Projection("I", "E", spp.fixed_outdegree(20, -0.05, seed=2)),
        spp.Projection("stim", "E", spp.fixed_outdegree(10, 0.3, seed=3))], seed=4)
    return net.run(duration=60.0, record={"v": [0, 1, 85], "dt": 0.1})


def test_raster(result, tmp_path):
    ax = result.plot_raster(sources=True)
    assert_drawn(ax, tmp_path / "raster.png", lines=3)      # E, I, sources
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["E", "I", "sources"]


def test_rate(result, tmp_path):
    ax = result.plot_rate(bin=2.0)
    assert_drawn(ax, tmp_path / "rate.png", lines=2)
    e_line = ax.get_lines()[0]
    # the mean of the binned rate is the population's rate over the run
    assert np.mean(e_line.get_ydata()[:-1]) == pytest.approx(result.rate_of("E"), rel=1e-9)


def test_state(result, tmp_path):
    ax = result.plot_state("v", neurons=[1, 85])
    assert_drawn(ax, tmp_path / "state.png", lines=2)
    assert np.array_equal(ax.get_lines()[1].get_ydata(), result.state["v"][2])


@pytest.mark.parametrize("name", ["lif", "qif", "theta"])
def test_model_curves(name, tmp_path):
    model = spp.load_model(name)
    ax = model.plot_phase_map()
    assert_drawn(ax, tmp_path / f"{name}_map.png", lines=3)
    ax = model.plot_ptc()
    assert_drawn(ax, tmp_path / f"{name}_ptc.png", lines=5)   # identity and four weights


def test_history(tmp_path):
    ax = History(loss=[3.0, 2.0, 1.5, 1.2], grad_norm=[1.0, 0.8, 0.5, 0.4]).plot()
    assert_drawn(ax, tmp_path / "history.png")


def test_command_line_plots_a_saved_result(result, tmp_path, capsys):
    result.save(tmp_path / "r.npz")
    for kind in ("raster", "rate", "state"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", str(tmp_path / "r.npz"), "-o", str(out), "--kind", kind]) == 0
        assert drawn_fraction(out) > 0.02
    assert main(["plot", str(tmp_path / "r.npz"), "-o", str(tmp_path / "r.txt")]) == 2
    assert "ending in one of" in capsys.readouterr().err
    assert not (tmp_path / "r.txt").exists()
    assert main(["plot", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "x.png")]) == 2


def test_bad_input(result):
    with pytest.raises(spp.ModelError, match="bin"):
        result.plot_rate(bin=0)
    with pytest.raises(spp.ModelError, match="was not recorded"):
        result.plot_state("v", neurons=[2])
    with pytest.raises(spp.ModelError, match="not recorded"):
        result.plot_state("u")
    with pytest.raises(spp.ModelError, match="Axes"):
        result.plot_raster(ax="left")
    plain = spp.Network("lif", 10, spp.fixed_outdegree(2, -0.1, seed=1), seed=1).run(1.0)
    with pytest.raises(spp.ModelError, match="record="):
        plain.plot_state()
    with pytest.raises(spp.ModelError, match="does not fire on its own"):
        spp.load_model("lif", I=0.5).plot_ptc()
    with pytest.raises(spp.ModelError, match="several state variables"):
        spp.load_model("lif_exp").plot_phase_map()
    with pytest.raises(spp.ModelError, match="finite numbers"):
        spp.load_model("lif").plot_ptc(weights=["a"])
    with pytest.raises(spp.ModelError, match="empty"):
        History().plot()
