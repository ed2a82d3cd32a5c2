"""The package version, in a module of its own: code generation and the cache key read it
without importing the package's __init__ (which imports every module, a cycle)."""
__version__ = "0.1.0"
