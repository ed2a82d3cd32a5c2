"""Faults of the kernel cache: damaged files, concurrent builds, a copied folder, file modes,
locks that cannot be had, and kernel calls at parameter values of other signs."""
import logging
import math
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import sparseprop as spp
from sparseprop import kernels as kernels_module
from sparseprop.codegen import cache

BUILD = ("import logging, sparseprop; logging.basicConfig(level=logging.INFO); "
         "k = sparseprop.load_model('lif').compile(); "
         "print(repr(k.ptc(1.0, -0.1)), repr(k.period()), k.ptc_grads(3.0, 0.05))")


def _start(folder):
    """A process building the LIF kernels with the cache in `folder` (printing some values)."""
    env = dict(os.environ, SPARSEPROP_CACHE_DIR=str(folder))
    return subprocess.Popen([sys.executable, "-c", BUILD], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process):
    out, err = process.communicate()
    assert process.returncode == 0, err
    return out, err


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Four processes started together building the LIF kernels in one empty cache folder:
    (folder, [(stdout, stderr) of each])."""
    folder = tmp_path_factory.mktemp("concurrent")
    return folder, [_finish(p) for p in [_start(folder) for _ in range(4)]]


def test_concurrent_builds_derive_once_and_agree(built):
    folder, runs = built
    assert sum("generated and compiled" in err for _, err in runs) == 1
    assert sum("sparseprop: compiling lif (first time only; kernels cached in "
               f"{folder})" in err for _, err in runs) == 1
    assert len({out for out, _ in runs}) == 1


def test_a_copied_folder_is_reused_without_deriving_and_silently(built, tmp_path):
    folder, runs = built
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(folder), str(copy)], check=True)   # new path, new times
    out, err = _finish(_start(copy))
    assert out == runs[0][0]
    assert "generated and compiled" not in err and f"kernels from cache {copy}" in err
    assert not [line for line in err.splitlines() if line.startswith("sparseprop:")]   # silent


def _lif_file(folder):
    (path,) = folder.glob("sp_*.py")
    return path


@pytest.fixture(scope="module")
def lif(built):
    """The LIF kernels (I = 1.1, tau = 10), loaded from the cache built by the processes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARSEPROP_CACHE_DIR", str(built[0]))
        return spp.load_model("lif").compile()


def test_truncated_or_edited_modules_are_refused_before_import(built, lif, tmp_path):
    clean = _lif_file(built[0])
    lines = clean.read_bytes().splitlines(keepends=True)
    damaged = tmp_path / clean.name
    for k in range(len(lines)):
        damaged.write_bytes(b"".join(lines[:k]))
        with pytest.raises(spp.ModelError, match="truncated or edited"):
            cache.load(damaged)
    text = clean.read_bytes()
    middle = text.index(b"return", len(text) // 2) + len("return ")
    edited = text[:middle] + (b"1" if text[middle:middle + 1] != b"1" else b"2") + text[middle + 1:]
    damaged.write_bytes(edited)
    with pytest.raises(spp.ModelError, match="truncated or edited"):
        cache.load(damaged)
    damaged.write_bytes(text)
    assert cache.load(damaged) is lif.jit   # the intact file: the module already imported


def test_a_truncated_cached_module_is_regenerated(built, lif, tmp_path, monkeypatch, caplog):
    clean = _lif_file(built[0])
    lines = clean.read_bytes().splitlines(keepends=True)
    damaged = tmp_path / clean.name
    damaged.write_bytes(b"".join(lines[:len(lines) // 2]))   # kernels without the engines
    monkeypatch.setenv("SPARSEPROP_CACHE_DIR", str(tmp_path))
    with caplog.at_level(logging.INFO, logger="sparseprop"):
        k = spp.load_model("lif").compile()
    assert f"removed cached module {damaged}" in caplog.text
    assert "generated and compiled" in caplog.text
    assert damaged.read_bytes() == clean.read_bytes()   # the clean build's file, byte for byte
    assert k.ptc_grads(3.0, 0.05) == lif.ptc_grads(3.0, 0.05)


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask022", "umask002"])
def test_cached_files_have_the_usual_permissions(tmp_path, monkeypatch, umask):
    monkeypatch.setenv("SPARSEPROP_CACHE_DIR", str(tmp_path))
    previous = os.umask(umask)
    try:
        path = cache.store("0123456789abcdef", "X = 1\n")
        with cache.lock("0123456789abcdef", "test") as held:
            assert held
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "sp_0123456789abcdef.lock").stat().st_mode) == 0o666 & ~umask


def test_a_lock_that_cannot_be_had_falls_back(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SPARSEPROP_CACHE_DIR", str(blocker / "cache"))   # no folder there
    with cache.lock("0123456789abcdef", "test") as held:
        assert not held
    monkeypatch.setenv("SPARSEPROP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "LOCK_WAIT", 0.2)
    with cache.lock("0123456789abcdef", "test") as outer:
        with cache.lock("0123456789abcdef", "test") as inner:   # held by another descriptor
            assert outer and not inner
    assert "waiting for another process compiling test" in capsys.readouterr().err
    with cache.lock("0123456789abcdef", "test") as again:   # released
        assert again


def test_parameter_signs_are_exported_and_checked(lif):
    assert lif.parameter_signs == (1, 1)
    P = np.array([[1.1, 10.0], [0.0, 10.0], [-0.5, 10.0], [1.1, -10.0], [2.0, 5.0]])
    assert lif.check_signs(P).tolist() == [False, True, True, True, False]
    assert lif.check_signs(P[3]).tolist() == [True]
    assert lif.check(True, params=P[4]) is None
    assert "period" in lif.check(True, params=np.array([0.5, 10.0]))   # subthreshold there
    with pytest.raises(spp.ModelError, match=r"shape \(5, 1\); give rows of 2 values \(I, tau\)"):
        lif.check_signs(P[:, :1])
    with pytest.raises(spp.ModelError, match=r"shape \(3,\); give 2 values"):
        lif.check(True, params=[1.1, 10.0, 1.0])


def test_an_override_of_another_sign_is_checked_once(lif, monkeypatch):
    calls, classify = [], kernels_module.classify
    monkeypatch.setattr(kernels_module, "classify",
                        lambda *a, **kw: calls.append(a) or classify(*a, **kw))
    for _ in range(2):
        with pytest.raises(spp.ModelError, match=r"tau = -10\.0: the kernels of lif were "
                                                 r"derived for tau > 0.*runs away"):
            lif.period(tau=-10.0)
    assert len(calls) == 1


def test_lif_with_a_negative_drive_evolves_by_its_flow(lif):
    v, dt = np.array([0.0, 0.5, -2.0]), np.array([1.0, 3.0, 0.2])
    decay = np.exp(-dt / 10.0)
    np.testing.assert_allclose(lif.flow(v, dt, I=-0.5), -0.5 + 0.5 * decay + v * decay,
                               rtol=1e-14, atol=1e-15)
    assert math.isclose(lif.flow(0.0, 1.0, I=-0.5), -0.5 + 0.5 * math.exp(-0.1), rel_tol=1e-14)


def test_kernels_that_do_not_hold_at_other_signs_say_what_works():
    model = spp.NeuronModel("du/dt = (u**2 + I)/tau : 1", "u >= u_th", "u = u_r", name="qif_finite",
                            parameters={"I": 0.5, "tau": 5.0, "u_th": 10.0, "u_r": -10.0})
    k = model.compile()   # closed form for I > 0 (an arctangent)
    with pytest.raises(spp.ModelError, match=r"I = -1\.0, u_r = 2\.0: .* derived for I > 0, "
                                             r"u_r < 0, and they do not hold .*"
                                             r"model\.with_parameters\(I=-1\.0, u_r=2\.0\)"):
        k.period(I=-1.0, u_r=2.0, u_th=4.0)
