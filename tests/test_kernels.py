"""Compiled kernels against independent oracles: composition, closed forms, quadrature, finite differences."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

import sparseprop as spp

RNG_SEED = 20231221


def _phases_and_weights(k, n=2000, wmax=0.5):
    """Random phases on (0, T) and weights of both signs that keep the state below threshold."""
    rng = np.random.default_rng(RNG_SEED)
    T = k.period()
    phase = rng.uniform(0, T, n)
    w = rng.uniform(-wmax, wmax, n)
    after = k.jump(k.state(phase), w)
    keep = (after < k.threshold()) & np.isfinite(k.phase(after))
    return phase[keep], w[keep], T


def test_ptc_is_state_plus_jump_back_to_phase(model):
    k = model.compile()
    phase, w, T = _phases_and_weights(k)
    assert len(phase) >= 1000 and (w > 0).any() and (w < 0).any()
    composed = k.phase(k.jump(k.state(phase), w))
    np.testing.assert_allclose(k.ptc(phase, w), composed, rtol=1e-12, atol=1e-12 * T)


def test_lif_ptc_equals_closed_form():
    k = spp.load_model("lif", I=1.3, tau=12.0).compile()
    I, tau = 1.3, 12.0
    phase, w, T = _phases_and_weights(k)
    assert T == pytest.approx(tau * math.log(I / (I - 1)), rel=1e-14)
    closed = -tau * np.log(np.exp(-phase / tau) - w / I)
    np.testing.assert_allclose(k.ptc(phase, w), closed, rtol=1e-12, atol=1e-12 * T)
    np.testing.assert_allclose(k.state(phase), I * (1 - np.exp(-phase / tau)), rtol=1e-12)


def test_qif_ptc_equals_closed_form():
    I, tau = 0.1, 10.0
    k = spp.load_model("qif").compile()
    phase, w, T = _phases_and_weights(k)
    assert T == pytest.approx(math.pi * tau / math.sqrt(I), rel=1e-14)
    theta = 2 * math.sqrt(I) * phase / tau - math.pi       # theta moves at 2 sqrt(I)/tau from -pi
    theta_after = 2 * np.arctan(np.tan(theta / 2) + w / math.sqrt(I))
    closed = (theta_after + math.pi) * tau / (2 * math.sqrt(I))
    np.testing.assert_allclose(k.ptc(phase, w), closed, rtol=1e-12, atol=1e-12 * T)


def test_theta_model_and_qif_give_the_same_ptc():
    qif, theta = spp.load_model("qif", I=0.2).compile(), spp.load_model("theta", I=0.2).compile()
    phase, w, T = _phases_and_weights(qif)
    assert theta.period() == pytest.approx(T, rel=1e-14)
    np.testing.assert_allclose(theta.ptc(phase, w), qif.ptc(phase, w), rtol=1e-12, atol=1e-12 * T)


def test_phase_equals_quadrature_of_one_over_f(model):
    k = model.compile()
    T = k.period()
    low, high = k.reset(), k.threshold()
    for u in (0.05, 0.3, 0.6, 0.95):
        x = k.state(u * T)
        lo = low if math.isfinite(low) else -np.inf
        integral, _ = quad(lambda y: 1 / k.rhs(y), lo, x, epsabs=0, epsrel=1e-12, limit=500)
        assert k.phase(x) == pytest.approx(integral, rel=1e-9, abs=1e-9 * T)
        assert k.phase(x) == pytest.approx(u * T, rel=1e-11)
    if math.isfinite(high):
        integral, _ = quad(lambda y: 1 / k.rhs(y), low if math.isfinite(low) else -np.inf, high,
                           epsabs=0, epsrel=1e-12, limit=500)
        assert T == pytest.approx(integral, rel=1e-9)


def _central(f, x, h):
    """Fourth-order central difference (truncation error O(h**4))."""
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def _rel_err(a, b, scale):
    return abs(a - b) / max(abs(b), scale)


def test_derivatives_match_central_finite_differences(model):
    k = model.compile()
    rng = np.random.default_rng(7)
    T = k.period()
    names = k.parameter_names
    worst = 0.0
    # derivatives of the period and the state/phase maps
    for name in names:
        value = k.params[names.index(name)]
        h = 1e-4 * max(abs(value), 1e-3)
        fd = _central(lambda v: k.period(**{name: v}), value, h)
        worst = max(worst, _rel_err(k.dperiod_dparams()[name], fd, 1e-3 * T / abs(value)))
    for _ in range(25):
        phase = rng.uniform(0.05, 0.95) * T
        x = k.state(phase)
        w = rng.uniform(-0.3, 0.3)
        if not (k.jump(x, w) < k.threshold() and math.isfinite(k.phase(k.jump(x, w)))):
            continue
        hp, hw = 1e-4 * T, 1e-4
        hx = 1e-4 * max(abs(x), 1e-2)
        checks = [
            (k.dptc_dphase(phase, w), _central(lambda p: k.ptc(p, w), phase, hp), 1e-6),
            (k.dptc_dw(phase, w), _central(lambda v: k.ptc(phase, v), w, hw), 1e-3 * T),
            (k.dstate_dphase(phase), _central(k.state, phase, hp), 1e-3 * max(abs(x), 1) / T),
            (k.dphase_dstate(x), _central(k.phase, x, hx), 1e-3 * T / max(abs(x), 1)),
        ]
        slopes = k.ptc_slopes(phase, w)   # (the reverse sweep's kernel: the same two at once)
        assert slopes["dptc_dphase"] == pytest.approx(k.dptc_dphase(phase, w), rel=1e-12)
        assert slopes["dptc_dw"] == pytest.approx(k.dptc_dw(phase, w), rel=1e-12)
        grads = (k.dptc_dparams(phase, w), k.dstate_dparams(phase), k.dphase_dparams(x))
        for name in names:
            value = k.params[names.index(name)]
            h = 1e-4 * max(abs(value), 1e-3)
            scale = 1e-3 / max(abs(value), 1e-3)  # derivative magnitudes below this count as ~0
            checks += [
                (grads[0][name], _central(lambda v: k.ptc(phase, w, **{name: v}), value, h), scale * T),
                (grads[1][name], _central(lambda v: k.state(phase, **{name: v}), value, h),
                 scale * max(abs(x), 1)),
                (grads[2][name], _central(lambda v: k.phase(x, **{name: v}), value, h), scale * T),
            ]
        for analytic, fd, scale in checks:
            worst = max(worst, _rel_err(analytic, fd, scale))
    print(f"{model.name}: worst relative error of derivatives {worst:.2e}")
    assert worst <= 1e-6, f"worst relative error {worst:g}"


def test_numba_callable_kernels_take_parameters_as_arguments():
    import numba
    k = spp.load_model("lif").compile()
    ptc = k.jit.ptc

    @numba.njit
    def apply_all(phases, w, params):
        out = np.empty_like(phases)
        for i in range(phases.size):
            out[i] = ptc(phases[i], w, params)
        return out

    phases = np.linspace(0.1, 10.0, 7)
    params = k.params_with(I=1.4)
    np.testing.assert_array_equal(apply_all(phases, -0.1, params), k.ptc(phases, -0.1, I=1.4))
    assert k.ptc(1.0, -0.1, I=1.4) != k.ptc(1.0, -0.1)   # values are arguments, not constants


def test_parameters_are_not_baked_into_the_source():
    source = spp.load_model("lif", I=1.2345, tau=17.5).source()
    assert "1.2345" not in source and "17.5" not in source
    assert "params[0]" in source and "kernel.py.j2" in source.splitlines()[0]
