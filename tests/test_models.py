"""Shipped models, user model files, explain() and the command line."""
import math

import pytest

import sparseprop as spp
from sparseprop.cli import main


def test_shipped_models_are_listed_with_descriptions():
    listed = dict(spp.list_models())
    assert {"lif", "qif", "theta", "pif"} <= set(listed)
    assert all(description for description in listed.values())


def test_shipped_lif_and_qif_follow_the_design_defaults():
    lif, qif = spp.load_model("lif"), spp.load_model("qif")
    assert lif.parameters == {"I": 1.1, "tau": 10.0}
    assert (lif.v_threshold, lif.v_reset) == (1.0, 0.0)
    assert qif.parameters == {"I": 0.1, "tau": 10.0}
    assert (qif.v_threshold, qif.v_reset) == (math.inf, -math.inf)
    assert spp.load_model("lif", I=1.2).parameters["I"] == 1.2


def test_user_model_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('equations = "dV/dt = (mu - V)/tau_m : 1"\nthreshold = "V >= 1"\n'
                    'reset = "V = 0"\n[parameters]\nmu = 2.0\ntau_m = 5.0\n')
    model = spp.load_model(str(path), mu=3.0)
    assert model.name == "mine" and model.state == "V"
    assert model.compile().period() == pytest.approx(5.0 * math.log(3.0 / 2.0), rel=1e-14)


def test_explain_text_and_latex():
    e = spp.load_model("lif").explain()
    assert e.method == "analytic"
    for piece in ("integral from 0 to v", "tau*(log(I) - log(I - 1))", "PTC(phase, w)",
                  "Method: analytic", "log(-I + v) taken as log(I - v)"):
        assert piece in e.text
    assert r"\int_{0}^{v}" in e.latex and r"\mathrm{PTC}" in e.latex
    assert str(e) == e.text and e._repr_latex_().startswith("$$")


def test_subexpressions_and_comments_and_multiline():
    model = spp.NeuronModel("""
        # a leaky neuron with an offset drive written as a subexpression
        dv/dt = (I_eff
                 - v)/tau : 1
        I_eff = I + b : 1   # effective drive
        tau : 1 (constant)
    """, "v >= 1", "v = 0", parameters={"I": 1.0, "b": 0.5, "tau": 10.0})
    assert model.compile().period() == pytest.approx(10 * math.log(1.5 / 0.5), rel=1e-14)


def test_general_on_pre_forms():
    base = dict(equations="dv/dt = (I - v)/tau : 1", threshold="v >= 1", reset="v = 0",
                parameters={"I": 1.5, "tau": 10.0})
    add = spp.NeuronModel(**base, on_pre="v += w").compile()
    scaled = spp.NeuronModel(**base, on_pre="v += w*(1 - v)").compile()
    assigned = spp.NeuronModel(**base, on_pre="v = v + w*(1 - v)").compile()
    phase = 0.5 * add.period()
    x = add.state(phase)
    assert scaled.ptc(phase, 0.2) == pytest.approx(add.phase(x + 0.2 * (1 - x)), rel=1e-13)
    assert assigned.ptc(phase, 0.2) == scaled.ptc(phase, 0.2)


def test_cli_lists_and_explains(capsys):
    assert main(["models"]) == 0
    assert "qif" in capsys.readouterr().out
    assert main(["explain", "theta", "--param", "I=0.2", "--latex"]) == 0
    assert r"\frac{d\theta}{dt}" in capsys.readouterr().out
    assert main(["explain", "lif", "--param", "I=0.5"]) == 0
    out = capsys.readouterr().out
    assert "fires only when inputs push it over" in out and "v(dt) = " in out


def test_cli_simulates_refractory_and_subthreshold_neurons(capsys):
    assert main(["simulate", "-n", "300", "-k", "10", "--duration", "50", "--weight", "0.3",
                 "--param", "refractory=2", "--param", "I=0.95"]) == 0
    out = capsys.readouterr().out
    assert "spikes: " in out and "rate" in out
    assert main(["simulate", "-n", "10", "-k", "2", "--param", "refractory=-1"]) == 2
    assert "refractory" in capsys.readouterr().err
    assert main(["explain", "lif", "--param", "I=0.9", "--compile"]) == 0
    assert "flow(reset, 1) = 0.0856463237676" in capsys.readouterr().out
