"""Names for sparseprop's compiled code in `perf` profiles: run a Python script, and when it
ends write /tmp/perf-<pid>.map (the file perf reads to name code made at run time) for every
numba function of sparseprop it compiled or loaded from the kernel cache.

    perf record -e cpu-clock -o perf.data python benchmarks/perf_map.py script.py [args...]
    perf report -i perf.data --sort sym

Each compiled function keeps its object code in numba's cache (a .nbc file beside its module,
or in the kernel cache's __pycache__); the symbols of that object (nm) are placed in memory by
the address of the function's entry point. A function inlined into another has no symbol of
its own: its time is its caller's. Without this map perf shows the compiled code as bare
addresses ("[JIT] tid ..."); numba's reference counting (NRT_incref, NRT_decref) stays bare,
as a few short hot functions at neighbouring addresses.
"""
import atexit
import glob
import os
import runpy
import struct
import subprocess
import sys
import tempfile


def _objects(blob):
    """The ELF objects inside a numba cache file's bytes."""
    at = blob.find(b"\x7fELF")
    while at >= 0:
        (section_table,) = struct.unpack_from("<Q", blob, at + 0x28)
        entry_size, entries = struct.unpack_from("<HH", blob, at + 0x3A)
        end = at + section_table + entry_size * entries
        yield blob[at:end]
        at = blob.find(b"\x7fELF", end)


def _symbols(obj):
    """{name: (offset, size)} of the functions defined in an object file's bytes."""
    with tempfile.NamedTemporaryFile(suffix=".o") as handle:
        handle.write(obj)
        handle.flush()
        listing = subprocess.run(["nm", "-S", "--defined-only", handle.name],
                                 capture_output=True, text=True, check=True).stdout
    out = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTW":
            out[fields[3]] = (int(fields[0], 16), int(fields[1], 16))
    return out


def _short(symbol):
    """A readable name from a mangled one (_ZN, then <length><name> per part): its parts
    joined by dots, a generated kernel module as 'kernels'; other names as they are."""
    if not symbol.startswith("_ZN"):
        return symbol
    parts, at = [], 3
    while at < len(symbol) and symbol[at].isdigit():
        digits = at
        while symbol[at].isdigit():
            at += 1
        size = int(symbol[digits:at])
        parts.append(symbol[at:at + size])
        at += size
    parts = ["kernels" if part.startswith("sparseprop_kernels_") else part for part in parts]
    return ".".join(parts) or symbol


def write_map():
    """Write /tmp/perf-<pid>.map for the compiled functions of sparseprop's modules and of the
    generated kernel modules now loaded; returns the number of symbols written."""
    lines = []
    for module_name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not (module_name.startswith("sparseprop") and path):   # (and sparseprop_kernels_*)
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        folder = os.path.join(os.path.dirname(path), "__pycache__")
        for name, value in list(vars(module).items()):
            overloads = getattr(value, "overloads", None)
            if not overloads:
                continue
            files = glob.glob(os.path.join(folder, f"{stem}.{name}-*.nbc"))
            objects = [_symbols(obj) for f in files for obj in _objects(open(f, "rb").read())]
            for result in overloads.values():
                entry = result.fndesc.llvm_func_name
                for symbols in objects:
                    if entry in symbols:
                        base = result.library.get_pointer_to_function(entry) - symbols[entry][0]
                        lines += [f"{base + offset:x} {size:x} {_short(symbol)}\n"
                                  for symbol, (offset, size) in symbols.items()]
                        break
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as handle:
        handle.writelines(lines)
    return len(lines)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    script, sys.argv = sys.argv[1], sys.argv[1:]
    atexit.register(lambda: print(f"perf_map: {write_map()} symbols in "
                                  f"/tmp/perf-{os.getpid()}.map", file=sys.stderr))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
