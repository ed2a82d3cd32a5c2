"""Shared fixtures: a fresh kernel cache for the session, and the models every test runs on."""
import os
import tempfile

import pytest

import sparseprop as spp

# One fresh cache per test run, shared by pytest-xdist's workers (the cache builds each model
# once under a lock, so a model compiled by one worker is loaded by the other).
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _RUN:
    _CACHE = os.path.join(tempfile.gettempdir(), f"sparseprop-test-cache-{_RUN}")
    os.makedirs(_CACHE, exist_ok=True)
else:
    _CACHE = tempfile.mkdtemp(prefix="sparseprop-test-cache-")
os.environ["SPARSEPROP_CACHE_DIR"] = _CACHE

LIF = "dV/dt = (I - V)/tau : 1"
QIF = "du/dt = (u**2 + I)/tau : 1"
THETA = "dth/dt = (1 - cos(th) + (1 + cos(th))*drive)/T_m : 1"

# name -> factory; together: every model the issue lists, with other symbol names and values.
MODELS = {
    "lif": lambda: spp.load_model("lif"),
    "qif": lambda: spp.load_model("qif"),
    "theta": lambda: spp.load_model("theta"),
    "pif": lambda: spp.load_model("pif"),
    "lif_V_params": lambda: spp.NeuronModel(
        LIF, "V >= V_th", "V = V_r", parameters={"I": 1.7, "tau": 20.0, "V_th": 1.2, "V_r": -0.3},
        name="lif_V"),
    "qif_finite": lambda: spp.NeuronModel(
        QIF, "u >= u_th", "u = u_r", parameters={"I": 0.5, "tau": 5.0, "u_th": 10.0, "u_r": -10.0},
        name="qif_finite"),
    "qif_finite_negative_drive": lambda: spp.NeuronModel(
        QIF, "u >= 4", "u = 2", parameters={"I": -1.0, "tau": 5.0}, name="qif_negative_drive"),
    "theta_renamed": lambda: spp.NeuronModel(
        THETA, "th >= pi", "th = -pi", on_pre="th = 2*atan(tan(th/2) + w)",
        parameters={"drive": 0.3, "T_m": 5.0}, name="theta_renamed"),
    "pif_u": lambda: spp.NeuronModel("du/dt = a/tau : 1", "u >= 2", "u = -1",
                                     parameters={"a": 2.0, "tau": 3.0}, name="pif_u"),
}


@pytest.fixture(scope="session", params=sorted(MODELS))
def model(request):
    """Each test model, derived and compiled once per session."""
    m = MODELS[request.param]()
    m.compile()
    return m


LINEAR = ("lif_exp", "lif_exp2", "lif_alpha", "alif")   # the shipped linear models


@pytest.fixture(scope="session")
def linear_models():
    """Each shipped linear model, loaded and compiled once per worker."""
    out = {}
    for name in LINEAR:
        m = spp.load_model(name)
        m.compile()
        out[name] = m
    return out
