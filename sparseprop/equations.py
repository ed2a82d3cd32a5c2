"""Parse Brian2-style model text into SymPy: equations, threshold, reset and on_pre statements.

Expressions are read with Python's `ast` and translated node by node, so arbitrary text can only
ever produce a SymPy expression or a ModelError (nothing is evaluated).
"""
import ast
import math
import re
import warnings
from dataclasses import dataclass, field

import sympy as sp

from .errors import ModelError

FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs,
    "log10": lambda x: sp.log(x, 10),
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
}
CONSTANTS = {"pi": sp.pi, "e": sp.E, "inf": sp.oo}
WEIGHT = "w"  # the synaptic weight in on_pre statements
RESERVED = {
    "t": "explicit time dependence is not supported: sparseprop needs autonomous dynamics "
         "dv/dt = f(v); replace the time-dependent term by a constant parameter",
    "dt": "'dt' has no meaning here: simulations are exact, there is no time step",
    "xi": "noise terms (xi) are not supported: exact event-based simulation needs deterministic dynamics",
}
_OPS = {ast.Add: sp.Add, ast.Mult: sp.Mul,
        ast.Sub: lambda a, b: a - b, ast.Div: lambda a, b: a / b}
_MAX_EXACT_EXPONENT = 64
_MAX_EXPONENT = 1000


def symbol(name):
    """The SymPy symbol sparseprop uses for a state variable or the weight (real-valued)."""
    return sp.Symbol(name, real=True)


@dataclass
class Equations:
    """One parsed differential equation with its subexpressions substituted."""
    state: str                 # name of the state variable
    rhs: sp.Expr               # f(state, parameters) of d state/dt = f
    text: str                  # the equation line as written (for messages)
    subexpressions: dict = field(default_factory=dict)  # name -> SymPy expression (substituted)
    declared: tuple = ()       # parameters declared with 'name : 1'


def _check_identifier(name, where, extra_reserved=()):
    if name in RESERVED or re.fullmatch(r"xi(_\w+)?", name):
        raise ModelError(f"{RESERVED.get(name, RESERVED['xi'])} (found '{name}' in '{where}')")
    if name in extra_reserved:
        raise ModelError(f"'{name}' is reserved for the synaptic weight in on_pre and cannot be "
                         f"used in '{where}'; rename it")
    if name in FUNCTIONS or name in CONSTANTS:
        raise ModelError(f"'{name}' is a built-in function or constant and cannot be defined in "
                         f"'{where}'; choose another name")


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"unsupported literal {value!r} in '{where}': only real numbers are allowed")
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError(f"number out of range in '{where}': write infinity as 'inf'")
    return sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(value))


def _power(base, exponent, where):
    """base**exponent; two numbers are evaluated with a size guard (SymPy would build huge integers)."""
    if exponent.is_Number and abs(exponent) > _MAX_EXPONENT:
        raise ModelError(f"the exponent {exponent} in '{where}' is out of range; powers up to "
                         f"{_MAX_EXPONENT} in size are supported")
    if not (base.is_Number and exponent.is_Number):
        return base ** exponent
    if exponent.is_Integer and abs(exponent) <= _MAX_EXACT_EXPONENT and abs(base) < 2 ** 64:
        return base ** exponent
    try:
        value = float(base) ** float(exponent)
    except (OverflowError, ZeroDivisionError) as exc:
        raise ModelError(f"the power {base}**{exponent} in '{where}' is out of range") from exc
    if isinstance(value, complex) or not math.isfinite(value):
        raise ModelError(f"the power {base}**{exponent} in '{where}' is not a finite real number")
    return sp.Float(value)


def _translate(node, names, where):
    """Translate one ast node to SymPy; `names` maps identifiers to SymPy objects."""
    snippet = lambda n: ast.get_source_segment(where, n) or ast.dump(n)  # noqa: E731
    if isinstance(node, ast.Expression):
        return _translate(node.body, names, where)
    if isinstance(node, ast.Constant):
        return _number(node.value, where)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ModelError(f"'{node.id}' is a function; call it, e.g. {node.id}(v), in '{where}'")
        if node.id == WEIGHT:
            raise ModelError(f"'{WEIGHT}' in '{where}' is the synaptic weight: it may appear only "
                             f"in on_pre, e.g. on_pre='v += {WEIGHT}'")
        _check_identifier(node.id, where)
        known = sorted(n for n in names if n != "__state__")
        raise ModelError(
            f"unknown identifier '{node.id}' in '{where}'; give it a value with "
            f"parameters={{'{node.id}': ...}} or define it as '{node.id} = ... : 1' "
            f"(known names: {', '.join(known) or 'none'})")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _translate(node.operand, names, where)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise ModelError(f"'^' in '{snippet(node)}' (in '{where}') is not a power; write '**'")
        left = _translate(node.left, names, where)
        right = _translate(node.right, names, where)
        if isinstance(node.op, ast.Pow):
            return _power(left, right, where)
        if type(node.op) in _OPS:
            if isinstance(node.op, ast.Div) and right.is_zero:
                raise ModelError(f"division by zero in '{snippet(node)}' (in '{where}')")
            return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else snippet(node.func)
            raise ModelError(f"unknown function '{name}' in '{where}'; available: "
                             f"{', '.join(sorted(FUNCTIONS))}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ModelError(f"'{snippet(node)}' in '{where}': {node.func.id} takes one argument")
        return FUNCTIONS[node.func.id](_translate(node.args[0], names, where))
    raise ModelError(f"unsupported syntax '{snippet(node)}' in '{where}'; use numbers, names, "
                     f"+ - * / **, parentheses and functions such as exp(...)")


def _translate_all(node, names, where):
    """_translate with SymPy's own failures (deep nesting, numbers it cannot handle) as ModelError."""
    try:
        return _translate(node, names, where)
    except RecursionError:
        raise ModelError(f"'{where[:80]}' is nested too deeply or too long") from None
    except (TypeError, AttributeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"cannot interpret '{where[:80]}': {type(exc).__name__} from SymPy "
                         f"({exc}); simplify the expression") from None


def _parse_python(text, mode, where):
    if "\x00" in text:
        raise ModelError(f"'{where}' contains a NUL character")
    try:
        with warnings.catch_warnings():  # e.g. '1if': Python warns, we judge the parse alone
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.parse(text.strip(), mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or str(exc)
        raise ModelError(f"cannot read '{where.strip()}': {msg}") from None


def parse_expression(text, names):
    """Parse one expression to SymPy; every identifier must be in `names` (or a constant)."""
    text = " ".join(text.split())
    if not text:
        raise ModelError("empty expression; write e.g. '(I - v)/tau'")
    return _translate_all(_parse_python(text, "eval", text), names, text)


_DIFF = re.compile(r"^\s*d\s*([A-Za-z_]\w*)\s*/\s*dt\s*=(.*)$", re.S)
_SUB = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(.*)$", re.S)
_DECL = re.compile(r"^\s*([A-Za-z_]\w*)\s*$")
_UNIT = re.compile(r"^\s*([^()]*?)\s*(?:\((.*)\))?\s*$", re.S)
_PARAMETER_FLAGS = {"constant", "shared"}


def _statements(text):
    """Split equation text into (definition, unit, flags) triples; an equation ends at its ':'."""
    if not isinstance(text, str):
        raise ModelError(f"equations must be a string, not {type(text).__name__}")
    pending = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        pending.append(line)
        if ":" in line:
            joined = " ".join(" ".join(pending).split())
            definition, _, unit = joined.partition(":")
            pending = []
            match = _UNIT.match(unit)
            if not match or ":" in unit:
                raise ModelError(f"cannot read the unit and flags ':{unit}' in '{joined}'; "
                                 f"write ': 1' optionally followed by flags in parentheses")
            flags = [f.strip() for f in (match.group(2) or "").split(",") if f.strip()]
            yield definition.strip(), match.group(1), flags, joined
    if pending:
        rest = " ".join(" ".join(pending).split())
        raise ModelError(f"'{rest}' has no unit; end each equation with ': 1', "
                         f"e.g. 'dv/dt = (I - v)/tau : 1'")


def _read_definitions(text, units=False):
    """Read equation text into (differential equations, subexpressions, declared parameters):
    [(state, rhs text, line)], {name: (expression text, line)}, [name], in written order.
    Units other than 1 only with units=True (models with units reach the parsers converted
    to ': 1' by sparseprop.units)."""
    diffs, subs, declared, seen = [], {}, [], set()
    for definition, unit, flags, line in _statements(text):
        if unit != "1" and not units:
            raise ModelError(
                f"unit '{unit}' in '{line}': the equations' units do not fit their parameters "
                f"(give parameters with units, e.g. parameters={{'tau': '10 ms'}}), or write "
                f"': 1' and plain numbers (ms)")
        for form in (_DIFF, _SUB, _DECL):
            match = form.match(definition)
            if match:
                break
        else:
            raise ModelError(f"cannot read '{line}'; expected 'dv/dt = expression : 1', "
                             f"'name = expression : 1' or 'name : 1'")
        name = match.group(1)
        _check_identifier(name, line, extra_reserved=(WEIGHT,))
        if name in seen:
            raise ModelError(f"'{name}' is defined twice (again in '{line}')")
        seen.add(name)
        bad_flags = [f for f in flags if form is not _DECL or f not in _PARAMETER_FLAGS]
        if bad_flags:
            raise ModelError(f"flag '({bad_flags[0]})' in '{line}' is not supported; parameters "
                             f"may carry (constant) or (shared), equations no flags yet")
        if form is _DIFF:
            diffs.append((name, match.group(2), line))
        elif form is _SUB:
            subs[name] = (match.group(2), line)
        else:
            declared.append(name)
    if not diffs:
        raise ModelError("no differential equation found; write one, e.g. 'dv/dt = (I - v)/tau : 1'")
    return diffs, subs, declared


def _check_parameters(declared, parameter_names, defined):
    """Declared parameters need a value; a parameter may not share a name with a definition."""
    for name in declared:
        if name not in parameter_names:
            raise ModelError(f"parameter '{name}' is declared in the equations but has no value; "
                             f"pass parameters={{'{name}': ...}}")
    clash = set(parameter_names) & set(defined)
    if clash:
        name = sorted(clash)[0]
        raise ModelError(f"'{name}' is both a parameter and defined in the equations; rename one")
    for name in parameter_names:
        _check_identifier(name, f"parameters={{'{name}': ...}}", extra_reserved=(WEIGHT,))


def _parse_right_hand_sides(rhs_texts, subs, names):
    """Parse each right-hand side with the subexpressions substituted (refusing cycles).

    Returns (right-hand sides, {subexpression name: resolved SymPy expression})."""
    names = dict(names)
    sub_symbols = {s: sp.Symbol(f"__sub_{s}") for s in subs}
    names.update(sub_symbols)
    parsed = {s: parse_expression(t, names) for s, (t, _) in subs.items()}
    rhs = [parse_expression(text, names) for text in rhs_texts]
    resolved = {}
    for name in subs:  # substitute subexpressions into each other, refusing cycles
        expr, chain = parsed[name], [name]
        for _ in range(len(subs) + 1):
            inner = [s for s in subs if sub_symbols[s] in expr.free_symbols]
            if not inner:
                break
            if name in inner:
                raise ModelError(f"subexpression '{name}' refers to itself (through "
                                 f"{' -> '.join(chain + [name])}); define it without a cycle")
            chain += inner
            expr = expr.subs({sub_symbols[s]: parsed[s] for s in inner})
        resolved[name] = expr
    rhs = [r.subs({sub_symbols[s]: resolved[s] for s in subs}) for r in rhs]
    return rhs, resolved


def parse_equations(text, parameter_names=()):
    """Parse Brian2-style equations holding exactly one differential equation.

    Returns an `Equations`; subexpressions (`name = expr : 1`) are substituted into the right-hand
    side, parameter declarations (`name : 1`) are recorded. Identifiers must be the state
    variable, a subexpression, or one of `parameter_names`.
    """
    diffs, subs, declared = _read_definitions(text)
    if len(diffs) > 1:
        names = ", ".join(d[0] for d in diffs)
        raise ModelError(f"more than one state variable ({names}): sparseprop handles one-dimensional "
                         f"models dv/dt = f(v); keep one differential equation")
    state, rhs_text, line = diffs[0]
    _check_parameters(declared, parameter_names, set(subs) | {state})
    names = {p: symbol(p) for p in parameter_names}
    names[state] = symbol(state)
    (rhs,), resolved = _parse_right_hand_sides([rhs_text], subs, names)
    return Equations(state=state, rhs=rhs, text=line, subexpressions=resolved,
                     declared=tuple(declared))


@dataclass
class EquationSystem:
    """Several parsed differential equations, in written order, subexpressions substituted."""
    states: tuple              # names of the state variables
    rhs: tuple                 # f_i(states, parameters) of d states[i]/dt = f_i, SymPy
    texts: tuple               # each equation line as written (for messages)
    subexpressions: dict = field(default_factory=dict)  # name -> SymPy expression (substituted)
    declared: tuple = ()       # parameters declared with 'name : 1'


def parse_system(text, parameter_names=()):
    """Parse Brian2-style equations holding one or more differential equations.

    Returns an `EquationSystem` (states in the order written, their right-hand sides as SymPy
    expressions). Subexpressions and parameter declarations work as in `parse_equations`;
    identifiers must be a state variable, a subexpression, or one of `parameter_names`.
    """
    diffs, subs, declared = _read_definitions(text)
    states = tuple(d[0] for d in diffs)
    _check_parameters(declared, parameter_names, set(subs) | set(states))
    names = {p: symbol(p) for p in parameter_names}
    names.update({s: symbol(s) for s in states})
    rhs, resolved = _parse_right_hand_sides([d[1] for d in diffs], subs, names)
    return EquationSystem(states=states, rhs=tuple(rhs), texts=tuple(d[2] for d in diffs),
                          subexpressions=resolved, declared=tuple(declared))


def _single_statement(text, kind, example):
    if not isinstance(text, str):
        raise ModelError(f"{kind} must be a string such as '{example}', not {type(text).__name__}")
    lines = [ln.split("#", 1)[0].strip() for ln in text.replace(";", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) != 1:
        raise ModelError(f"{kind} '{text.strip()}' must be exactly one statement, e.g. '{example}'")
    return lines[0]


def _value_expression(node, line, state, names, kind):
    """Translate a threshold or reset value, which may use parameters but not the state."""
    expr = _translate_all(node, names, line)
    if symbol(state) in expr.free_symbols:
        raise ModelError(f"{kind} value in '{line}' depends on {state}; it must be a fixed "
                         f"value (a number, a parameter or inf)")
    return expr


def parse_threshold(text, state, names):
    """Parse 'v >= value' (or '>'); returns the threshold value as SymPy."""
    line = _single_statement(text, "threshold", f"{state} >= 1")
    tree = _parse_python(line, "eval", line).body
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1
            and isinstance(tree.left, ast.Name) and isinstance(tree.ops[0], (ast.GtE, ast.Gt))):
        raise ModelError(f"cannot read threshold '{line}'; write '{state} >= value', e.g. "
                         f"'{state} >= 1' or '{state} >= inf'")
    if tree.left.id != state:
        raise ModelError(f"threshold '{line}' tests '{tree.left.id}', but the state variable is "
                         f"'{state}'; write '{state} >= value'")
    return _value_expression(tree.comparators[0], line, state, names, "threshold")


def parse_reset(text, state, names):
    """Parse 'v = value'; returns the reset value as SymPy."""
    line = _single_statement(text, "reset", f"{state} = 0")
    tree = _parse_python(line, "exec", line).body
    if not (len(tree) == 1 and isinstance(tree[0], ast.Assign) and len(tree[0].targets) == 1
            and isinstance(tree[0].targets[0], ast.Name)):
        raise ModelError(f"cannot read reset '{line}'; write '{state} = value', e.g. '{state} = 0'")
    if tree[0].targets[0].id != state:
        raise ModelError(f"reset '{line}' assigns '{tree[0].targets[0].id}', but the state "
                         f"variable is '{state}'")
    return _value_expression(tree[0].value, line, state, names, "reset")


_AUG = {ast.Add: lambda v, e: v + e, ast.Sub: lambda v, e: v - e,
        ast.Mult: lambda v, e: v * e, ast.Div: lambda v, e: v / e}


def parse_on_pre(text, state, names):
    """Parse the effect of a presynaptic spike of weight w: 'v += g(v, w)' or 'v = h(v, w)'.

    Returns h(v, w), the state right after the spike, as SymPy.
    """
    line = _single_statement(text, "on_pre", f"{state} += {WEIGHT}")
    tree = _parse_python(line, "exec", line).body
    node = tree[0] if len(tree) == 1 else None
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, op = node.targets[0].id, None
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and type(node.op) in _AUG:
        target, op = node.target.id, type(node.op)
    else:
        raise ModelError(f"cannot read on_pre '{line}'; write '{state} += {WEIGHT}' or "
                         f"'{state} = expression of {state} and {WEIGHT}'")
    if target != state:
        raise ModelError(f"on_pre '{line}' changes '{target}', but the state variable is '{state}'")
    names = dict(names, **{WEIGHT: symbol(WEIGHT)})
    expr = _translate_all(node.value, names, line)
    expr = expr if op is None else _AUG[op](symbol(state), expr)
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ModelError(f"on_pre '{line}' gives a state that is not finite ({expr}); the jump "
                         f"must be a finite expression of {state} and {WEIGHT}")
    return expr


def count_differential_equations(text):
    """How many differential equations `text` declares (0 if it cannot be read as equations)."""
    try:
        return len(_read_definitions(text, units=True)[0])
    except ModelError:
        return 0


def parse_condition(text, names, example):
    """Parse a threshold condition 'left >= right' (or '>'), each side an expression of `names`;
    returns left - right as SymPy (the condition holds where it is >= 0)."""
    line = _single_statement(text, "threshold", example)
    tree = _parse_python(line, "eval", line).body
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1
            and isinstance(tree.ops[0], (ast.GtE, ast.Gt))):
        raise ModelError(f"cannot read threshold '{line}'; write 'expression >= expression', "
                         f"e.g. '{example}'")
    return _translate_all(tree.left, names, line) - _translate_all(tree.comparators[0], names,
                                                                  line)


def parse_assignments(text, targets, names, kind, example):
    """Parse statements such as 'v = 0; a += b' (one per line or separated by ';'). Each assigns
    (=, +=, -=, *=, /=) one of `targets` an expression of `names`. Returns [(target, op, new
    value as SymPy in terms of the values before this statement)], op '=' or 'aug'."""
    if not isinstance(text, str):
        raise ModelError(f"{kind} must be a string such as '{example}', not {type(text).__name__}")
    lines = [ln.split("#", 1)[0].strip() for ln in text.replace(";", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise ModelError(f"{kind} is empty; write e.g. '{example}'")
    out = []
    for line in lines:
        tree = _parse_python(line, "exec", line).body
        node = tree[0] if len(tree) == 1 else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            target, op = node.targets[0].id, None
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and \
                type(node.op) in _AUG:
            target, op = node.target.id, type(node.op)
        else:
            raise ModelError(f"cannot read {kind} '{line}'; write statements such as '{example}'")
        if target not in targets:
            raise ModelError(f"{kind} '{line}' assigns '{target}', which is not a state variable; "
                             f"the state variables are {', '.join(targets)}")
        expr = _translate_all(node.value, names, line)
        expr = expr if op is None else _AUG[op](symbol(target), expr)
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ModelError(f"{kind} '{line}' gives a value that is not finite ({expr})")
        out.append((target, "=" if op is None else "aug", expr))
    return out
