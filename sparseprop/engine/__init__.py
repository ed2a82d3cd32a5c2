"""The shared event engine: an indexed heap, and loops rendered into each model's kernel module.

The loops live in sparseprop/templates/engine_*.py.j2 and are rendered once into every model's
generated module, beside that model's kernels, so that numba compiles them with the model's PTC
inlined and caches the machine code with the module. (Passing the kernels to a jitted engine as
arguments works too, but numba's cache misses on dispatcher-typed arguments, so every process
recompiled the engine: measured, see the issue note.)
"""
