"""Central finite differences of a loss with respect to a network's weights, shared by the
batch tests."""
import numpy as np
import pytest


def check_weight_gradients(net, loss, gradient, floor, stride):
    """Every `stride`-th weight whose gradient exceeds `floor` in magnitude: the central
    difference (step 1e-6) of loss() (a number, the network as it is) equals gradient[q] to
    1e-5 relative; at least 5 are checked. The weights are put back."""
    w0 = net.csr.weight_array().copy()
    h, checked = 1e-6, 0
    for q in np.flatnonzero(np.abs(gradient) > floor)[::stride]:
        values = []
        for sign in (1, -1):
            w = w0.copy()
            w[q] += sign * h
            net.set_weights(w)
            values.append(loss())
        net.set_weights(w0)
        assert (values[0] - values[1]) / (2 * h) == pytest.approx(gradient[q], rel=1e-5)
        checked += 1
    assert checked >= 5
