"""SymPy -> numba-safe Python: `math` functions, infinities as math.inf, no complex numbers."""
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..errors import ModelError


class NumbaPrinter(PythonCodePrinter):
    """Prints scalar float expressions that numba's nopython mode compiles."""

    def _print_NegativeInfinity(self, expr):
        return "(-math.inf)"

    def _print_ImaginaryUnit(self, expr):
        raise ModelError("a derived expression is complex-valued (contains the imaginary unit); "
                         "sparseprop needs real closed forms")

    def _print_ComplexInfinity(self, expr):
        raise ModelError("a derived expression contains complex infinity (a division by zero)")

    def _print_NaN(self, expr):
        raise ModelError("a derived expression is undefined (NaN)")

    def _print_NumericMapBase(self, expr):
        """A numeric table (sparseprop.numeric): a call into the module's map functions."""
        index = f", {int(expr.args[1])}" if expr.func._takes_index else ""
        return f"{expr.func._numeric_call}({self._print(expr.args[0])}{index}, params)"


def print_expression(expr):
    """One SymPy expression as numba-safe Python source text."""
    try:
        return NumbaPrinter({"fully_qualified_modules": True, "strict": True}).doprint(expr)
    except ModelError:
        raise
    except Exception as exc:  # SymPy signals unsupported functions with several exception types
        raise ModelError(f"cannot generate code for '{expr}': {exc}") from None


def print_block(outputs, rename):
    """Common subexpressions of `outputs` shared: ([(name, source)], [source per output])."""
    outputs = [sp.sympify(e).xreplace(rename) for e in outputs]
    temps, reduced = sp.cse(outputs, symbols=sp.numbered_symbols("_t"))
    return ([(str(s), print_expression(e)) for s, e in temps],
            [print_expression(e) for e in reduced])
