"""Forward-sensitivity equations of an SBML model, as a second SBML model the engine compiles like any other.

Why: a fit's Jacobian by central differences costs 2 ODE solves per parameter at rtol 1e-10; the sensitivity
equations give every derivative exactly from one solve. roadrunner's own forward sensitivities were measured
wrong for parameter-dependent initial states and in amount units (issue 18 ANALYSIS 2b), and AMICI needs a C++
tool chain and minutes per model (2c); so sympy derives the equations here and roadrunner's LLVM compiles them
(2d). For states x (concentrations of the floating species and values of rate-rule variables), parameters q and
estimated parameters theta, with weights ``w[q, theta] = d q / d theta`` set per simulation (a condition may
map a model parameter to an estimated one):

    d s_theta / dt = J(x, q) s_theta + sum_q (d f / d q) w[q, theta],    s_theta(0) = sum_q (d x0 / d q) w[q, theta]

written as rate rules of new parameters ``x__<id>`` and ``s__<k>__<theta>``; the sensitivity of every quantity a
formula reads (a species, a parameter, an assignment-rule target) is an assignment rule ``S__<a>__<theta>``. The
initial state and the steady-state sensitivities (implicit-function theorem) are computed by the engine from the
numeric functions held here; nothing in the augmented model is an initial assignment.

Refused (:class:`NotSupported`, with the construct named): events, algebraic rules, amount-valued species
(``hasOnlySubstanceUnits``), variable compartments, and rules or initial assignments on compartments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy.printing.str import StrPrinter

from .._lambdify import lambdify
from ._compiled import CompiledModel

_T = sympy.Symbol("time_")


class NotSupported(Exception):
    """The model uses a construct the sensitivity equations do not cover (the message names it)."""


@dataclass(frozen=True, eq=False)
class SensitivitySystem:
    """The augmented model and the numeric functions the engine needs around it.

    Attributes
    ----------
    model
        The original model.
    aug
        The augmented model (states, sensitivities, output sensitivities as rules).
    states
        State ids: floating species (concentrations), then rate-rule variables.
    params
        The model parameters (in ``model.parameters`` order) that the numeric functions take, as a vector.
    pairs
        ``(index into params, theta index)`` of every weight ``w_<k>`` in the augmented model, in order.
    n_theta
        Number of estimated parameters differentiated.
    outputs
        The model quantities whose sensitivities are reported (``S__<a>__<theta>``).
    x0, dx0, jac, fq
        Numeric functions: initial state ``x0(q)``, ``dx0(q)`` (states x params), ``jac(x, q, t)`` (states x
        states) and ``fq(x, q, t)`` (states x params).
    """

    model: CompiledModel
    aug: CompiledModel
    states: tuple[str, ...]
    params: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    n_theta: int
    outputs: tuple[str, ...]
    x0: Callable = field(repr=False)
    dx0: Callable = field(repr=False)
    jac: Callable = field(repr=False)
    fq: Callable = field(repr=False)
    rate: Callable = field(repr=False)

    def selection(self) -> tuple[str, ...]:
        """The augmented model's ids to report: output sensitivities, output by output, theta by theta."""
        return tuple(f"S__{a}__{j}" for a in self.outputs for j in range(self.n_theta))


def sensitivity_system(model: CompiledModel, pairs: Sequence[tuple[str, int]], n_theta: int,
                       outputs: Sequence[str]) -> SensitivitySystem:
    """Build the forward-sensitivity system of ``model``.

    Parameters
    ----------
    model
        The model (its SBML).
    pairs
        ``(model parameter id, theta index)`` for every weight the caller will set (the parameter may depend on
        that estimated parameter in some simulation).
    n_theta
        Number of estimated parameters.
    outputs
        Readable model ids whose sensitivities are wanted.

    Returns
    -------
    SensitivitySystem
        Ready for :func:`simulator.engine.sensitivity_courses`.

    Raises
    ------
    NotSupported
        A construct the equations do not cover (named in the message).
    """
    import libsbml

    doc = libsbml.readSBMLFromString(model.sbml)
    props = libsbml.ConversionProperties()
    props.addOption("expandFunctionDefinitions", True)
    doc.convert(props)
    m = doc.getModel()
    if m.getNumEvents():
        raise NotSupported(f"model {model.name!r} has events")
    for c in m.getListOfCompartments():
        if not c.getConstant():
            raise NotSupported(f"compartment {c.getId()!r} of model {model.name!r} is not constant")
    syms: dict[str, sympy.Symbol] = {}

    def sym(name: str) -> sympy.Symbol:
        if name not in syms:
            syms[name] = sympy.Symbol(f"v_{name}")
        return syms[name]

    rules: dict[str, sympy.Expr] = {}
    rate_rules: dict[str, sympy.Expr] = {}
    for r in m.getListOfRules():
        if r.isAlgebraic():
            raise NotSupported(f"model {model.name!r} has an algebraic rule")
        target = r.getVariable()
        if m.getCompartment(target) is not None:
            raise NotSupported(f"compartment {target!r} of model {model.name!r} is set by a rule")
        (rules if r.isAssignment() else rate_rules)[target] = _to_sympy(r.getMath(), sym)
    ias = {}
    for a in m.getListOfInitialAssignments():
        if m.getCompartment(a.getSymbol()) is not None:
            raise NotSupported(f"compartment {a.getSymbol()!r} of model {model.name!r} has an initial assignment")
        ias[a.getSymbol()] = _to_sympy(a.getMath(), sym)
    sizes = {c.getId(): float(c.getSize()) if c.isSetSize() else 1.0 for c in m.getListOfCompartments()}
    for sp in m.getListOfSpecies():
        if sp.getHasOnlySubstanceUnits():
            raise NotSupported(f"species {sp.getId()!r} of model {model.name!r} is an amount (hasOnlySubstanceUnits)")

    params = tuple(model.parameters)
    param_syms = [sym(p) for p in params]
    species = [s for s in model.species if s not in rate_rules]
    states = tuple(species) + tuple(rate_rules)
    state_syms = [sym(s) for s in states]
    # constants: compartments, boundary or constant species without rules, parameters defined by nothing else
    constants = {sym(c): v for c, v in sizes.items()}
    for sp in m.getListOfSpecies():
        sid = sp.getId()
        if sid not in states and sid not in rules and sid not in ias:
            size = sizes.get(sp.getCompartment(), 1.0)
            value = (sp.getInitialConcentration() if sp.isSetInitialConcentration()
                     else sp.getInitialAmount() / size if size else math.nan)
            constants[sym(sid)] = value
    for p in m.getListOfParameters():
        pid = p.getId()
        if pid not in params and pid not in rules and pid not in rate_rules and pid not in ias:
            constants[sym(pid)] = p.getValue()

    def expand(expr: sympy.Expr) -> sympy.Expr:
        """Assignment rules and parameter initial assignments substituted until only states, q and t remain."""
        definitions = {sym(k): v for k, v in rules.items()}
        definitions.update({sym(k): v for k, v in ias.items() if k not in states and m.getSpecies(k) is None})
        for _ in range(50):
            new = expr.xreplace(definitions)
            if new == expr:
                break
            expr = new
        else:
            raise NotSupported(f"assignment rules of model {model.name!r} refer to each other in a cycle")
        return expr.xreplace(constants)

    rhs = {s: sympy.Integer(0) for s in species}
    for r in m.getListOfReactions():
        if not r.isSetKineticLaw():
            raise NotSupported(f"reaction {r.getId()!r} of model {model.name!r} has no kinetic law")
        rate = _to_sympy(r.getKineticLaw().getMath(), sym)
        for refs, sign in ((r.getListOfReactants(), -1), (r.getListOfProducts(), 1)):
            for ref in refs:
                sid = ref.getSpecies()
                if sid not in rhs:
                    continue
                if ref.isSetId() and (ref.getId() in rules or ref.getId() in rate_rules or ref.getId() in ias):
                    raise NotSupported(f"reaction {r.getId()!r} of model {model.name!r} has a variable stoichiometry")
                volume = sym(m.getSpecies(sid).getCompartment())
                rhs[sid] += sign * float(ref.getStoichiometry()) * rate / volume
    f = sympy.Matrix([expand(rhs[s]) for s in species] + [expand(rate_rules[s]) for s in rate_rules])
    q_index = {p: i for i, p in enumerate(params)}
    weight_pairs = tuple(dict.fromkeys((q_index[p], j) for p, j in pairs if p in q_index))
    used = sorted({k for k, _ in weight_pairs})
    jumps = _jumping_switches(_rate_owners(m, rate_rules, rules, sym, expand), set(state_syms),
                              {param_syms[k] for k in used})
    if jumps:
        raise NotSupported(f"model {model.name!r}: {'; '.join(jumps)}; the forward sensitivities jump there and "
                           "the sensitivity equations have no jump term")
    unknown = f.free_symbols - set(state_syms) - set(param_syms) - {_T}
    if unknown:
        raise NotSupported(f"model {model.name!r}: the rates depend on {sorted(map(str, unknown))}, "
                           "which are neither states nor settable parameters")
    x0 = sympy.Matrix([expand(ias[s]) if s in ias else sympy.Symbol("__default__") for s in states])
    default = {}
    for s in states:
        if s in ias:
            continue
        sp = m.getSpecies(s)
        if sp is not None:
            default[s] = model.species_initial.get(s, math.nan)
        else:
            p = m.getParameter(s)
            default[s] = p.getValue() if p is not None else math.nan
    x0 = sympy.Matrix([x0[i] if states[i] in ias else sympy.Float(default[states[i]]) for i in range(len(states))])
    # in an initial assignment a state's id means its initial value
    start_of = {sym(s): x0[i] for i, s in enumerate(states)}
    for _ in range(50):
        new_x0 = x0.xreplace(start_of)
        if new_x0 == x0:
            break
        x0 = new_x0
        start_of = {sym(s): x0[i] for i, s in enumerate(states)}
    if x0.free_symbols - set(param_syms):
        raise NotSupported(f"model {model.name!r}: the initial state depends on "
                           f"{sorted(str(v)[2:] for v in x0.free_symbols - set(param_syms))}, which are not "
                           "settable parameters")
    jac = f.jacobian(state_syms)
    fq_used = f.jacobian([param_syms[k] for k in used]) if used else sympy.zeros(len(states), 0)
    col = {k: i for i, k in enumerate(used)}

    # outputs: each readable id as an expression of states, parameters and time
    out_exprs = {}
    for a in outputs:
        if a in states:
            out_exprs[a] = sym(a)
        elif a in q_index:
            out_exprs[a] = sym(a)
        else:
            out_exprs[a] = expand(sym(a))
        if out_exprs[a].free_symbols - set(state_syms) - set(param_syms) - {_T}:
            raise NotSupported(f"model {model.name!r}: output {a!r} depends on quantities that are not states or "
                               "parameters")

    xs = {s: sympy.Symbol(f"x__{s}") for s in states}
    to_aug = {sym(s): xs[s] for s in states} | {sym(p): sympy.Symbol(p) for p in params} | {_T: sympy.Symbol("time")}
    weights = {pair: sympy.Symbol(f"w_{k}") for k, pair in enumerate(weight_pairs)}
    ssym = {(i, j): sympy.Symbol(f"s__{i}__{j}") for i in range(len(states)) for j in range(n_theta)}
    rate_rules_out: list[tuple[str, sympy.Expr]] = []
    assignments_out: list[tuple[str, sympy.Expr]] = []
    for i, s in enumerate(states):
        rate_rules_out.append((f"x__{s}", f[i].xreplace(to_aug)))
    for j in range(n_theta):
        w_j = [(k, w) for (k, jj), w in weights.items() if jj == j]
        for i in range(len(states)):
            terms = [jac[i, k].xreplace(to_aug) * ssym[k, j] for k in range(len(states)) if jac[i, k] != 0]
            terms += [fq_used[i, col[k]].xreplace(to_aug) * w for k, w in w_j if fq_used[i, col[k]] != 0]
            rate_rules_out.append((str(ssym[i, j]), sympy.Add(*terms)))
    for a, expr in out_exprs.items():
        grad_x = [sympy.diff(expr, sym(s)) for s in states]
        for j in range(n_theta):
            terms = [g.xreplace(to_aug) * ssym[i, j] for i, g in enumerate(grad_x) if g != 0]
            terms += [sympy.diff(expr, param_syms[k]).xreplace(to_aug) * w
                      for (k, jj), w in weights.items() if jj == j and sympy.diff(expr, param_syms[k]) != 0]
            assignments_out.append((f"S__{a}__{j}", sympy.Add(*terms)))
    constants_out = [(p, float(model.parameters[p])) for p in params] + [(str(w), 0.0) for w in weights.values()]
    sbml = _write_sbml(f"{model.name}_sensitivities", constants_out, rate_rules_out, assignments_out)
    from ._load import from_sbml_text

    aug = from_sbml_text(sbml, name=f"{model.name}__sensitivities")

    args_x = [state_syms, param_syms, _T]
    fq_all = sympy.zeros(len(states), len(params))
    for k in used:
        fq_all[:, k] = fq_used[:, col[k]]
    return SensitivitySystem(
        model=model, aug=aug, states=states, params=params, pairs=weight_pairs, n_theta=n_theta,
        outputs=tuple(outputs),
        x0=_lambdify([param_syms], x0), dx0=_lambdify([param_syms], x0.jacobian(param_syms)),
        jac=_lambdify(args_x, jac), fq=_lambdify(args_x, fq_all), rate=_lambdify(args_x, f),
    )


def _rate_owners(m, rate_rules: dict, rules: dict, sym: Callable, expand: Callable) -> list[tuple[str, sympy.Expr]]:
    """(name, rate with every rule substituted) per reaction and rate rule.

    The name adds the assignment rules with a piecewise that the rate reads (directly or through other rules), so
    a switch is named where it is written.
    """
    raw = [(f"reaction {r.getId()!r}", _to_sympy(r.getKineticLaw().getMath(), sym)) for r in m.getListOfReactions()]
    raw += [(f"rate rule of {s!r}", e) for s, e in rate_rules.items()]
    by_sym = {sym(k): k for k in rules}
    out = []
    for name, expr in raw:
        seen: set[str] = set()
        stack = [expr]
        while stack:
            for v in stack.pop().free_symbols:
                if v in by_sym and by_sym[v] not in seen:
                    seen.add(by_sym[v])
                    stack.append(rules[by_sym[v]])
        via = sorted(k for k in seen if rules[k].atoms(sympy.Piecewise))
        out.append((name + (f" (through rule {', '.join(map(repr, via))})" if via else ""), expand(expr)))
    return out


def _jumping_switches(owners: list[tuple[str, sympy.Expr]], states: set, differentiated: set) -> list[str]:
    """Each rate with a piecewise whose value jumps at a switch that moves with the states or with ``differentiated``.

    Why: the forward sensitivity of a state jumps where the right-hand side does, by ``(f- - f+) d t*/d theta``
    (the switching time ``t*`` moves with theta when the condition reads a state, or reads time and a
    differentiated parameter); the augmented model differentiates each branch only, so its gradient was wrong
    after such a switch (x' = -k x until x = c, then -5 k x: d x(T)/d k 5 times too small). A switch where both
    branches agree (a kink, ``max(0, 1 - x)``) has no jump term and is kept. Roadrunner itself root-finds the
    switch (measured: the same numbers as an event), so the plain simulation is right.
    """
    out = []
    for owner, expr in owners:
        reads: set = set()
        for pw in expr.atoms(sympy.Piecewise):
            names = set().union(*(c.free_symbols for _, c in pw.args if isinstance(c, sympy.Basic)))
            moving = names & states or (names & differentiated if _T in names else set())
            if moving and not _continuous(pw, names & (states | {_T})):
                reads |= moving | (names & {_T})
        if reads:
            named = sorted(str(n)[2:] for n in reads - {_T}) + (["time"] if _T in reads else [])
            out.append(f"{owner} switches by a piecewise on {', '.join(named)}")
    return out


def _continuous(pw: sympy.Piecewise, switching: set) -> bool:
    """Whether neighbouring branches of ``pw`` agree where its conditions switch (each a single relation)."""
    pieces = pw.args
    for (value, cond), (after, _) in zip(pieces[:-1], pieces[1:], strict=True):
        if not isinstance(cond, sympy.core.relational.Relational):
            return False
        g = cond.lhs - cond.rhs
        candidates = sorted(g.free_symbols & switching, key=str)
        if not candidates:
            return False
        try:
            roots = sympy.solve(g, candidates[0])
        except (NotImplementedError, TypeError, ValueError):
            return False
        if not roots or any(sympy.simplify((value - after).subs(candidates[0], r)) != 0 for r in roots):
            return False
    return True


def _lambdify(args: list, matrix: sympy.Matrix) -> Callable:
    func = lambdify(args, matrix, modules="numpy", cse=True)

    def call(*values) -> np.ndarray:
        return np.asarray(func(*values), dtype=float).reshape(matrix.shape)

    return call


class _L3Printer(StrPrinter):
    """sympy -> SBML Level 3 infix (libsbml.parseL3Formula): piecewise, &&, ||, ln, ^, full precision."""

    def __init__(self) -> None:
        super().__init__({"full_prec": True})

    def _print_Pow(self, expr) -> str:
        return f"({self._print(expr.base)})^({self._print(expr.exp)})"

    def _print_Piecewise(self, expr) -> str:
        parts = []
        otherwise = "NaN"
        for value, cond in expr.args:
            if cond == sympy.true:
                otherwise = self._print(value)
                break
            parts += [self._print(value), self._print(cond)]
        return f"piecewise({', '.join([*parts, otherwise])})"

    def _print_And(self, expr) -> str:
        return "(" + " && ".join(f"({self._print(a)})" for a in expr.args) + ")"

    def _print_Or(self, expr) -> str:
        return "(" + " || ".join(f"({self._print(a)})" for a in expr.args) + ")"

    def _print_Not(self, expr) -> str:
        return f"!({self._print(expr.args[0])})"

    def _print_Relational(self, expr) -> str:
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"(({self._print(expr.lhs)}) {op} ({self._print(expr.rhs)}))"

    def _print_log(self, expr) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_Abs(self, expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Exp1(self, expr) -> str:
        return "exponentiale"

    def _print_Pi(self, expr) -> str:
        return "pi"

    def _print_BooleanTrue(self, expr) -> str:
        return "true"

    def _print_BooleanFalse(self, expr) -> str:
        return "false"

    def _print_NaN(self, expr) -> str:
        return "NaN"

    def _print_Infinity(self, expr) -> str:
        return "INF"


def _write_sbml(name: str, constants: list[tuple[str, float]], rate_rules: list[tuple[str, sympy.Expr]],
                assignments: list[tuple[str, sympy.Expr]]) -> str:
    """A model of global parameters only: constants, rate-rule variables (start 0) and assignment-rule outputs."""
    import libsbml

    printer = _L3Printer()
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId(name)
    for pid, value in constants:
        p = m.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(True)
    for kind, items in (("rate", rate_rules), ("assign", assignments)):
        for pid, expr in items:
            p = m.createParameter()
            p.setId(pid)
            p.setValue(0.0)
            p.setConstant(False)
            rule = m.createRateRule() if kind == "rate" else m.createAssignmentRule()
            rule.setVariable(pid)
            text = printer.doprint(expr) if expr != 0 else "0"
            math_ast = libsbml.parseL3Formula(text)
            if math_ast is None:
                reason = libsbml.getLastParseL3Error()
                raise NotSupported(f"sensitivity equation {pid!r} could not be written: {reason}")
            rule.setMath(math_ast)
    return libsbml.writeSBMLToString(doc)


_FUNCTIONS = {
    "exp": sympy.exp, "ln": sympy.log, "log10": lambda x: sympy.log(x, 10), "sqrt": sympy.sqrt, "abs": sympy.Abs,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh, "floor": sympy.floor,
    "ceiling": sympy.ceiling,
}


def _to_sympy(ast, sym: Callable[[str], sympy.Symbol]) -> sympy.Expr:
    """A libsbml AST as a sympy expression (ids through ``sym``, time as :data:`_T`)."""
    import libsbml

    t = ast.getType()
    kids = [_to_sympy(ast.getChild(i), sym) for i in range(ast.getNumChildren())]
    if t == libsbml.AST_NAME:
        return sym(ast.getName())
    if t == libsbml.AST_NAME_TIME:
        return _T
    if t == libsbml.AST_INTEGER:
        return sympy.Integer(ast.getInteger())
    if t in (libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
        return sympy.Float(ast.getReal())
    if t == libsbml.AST_CONSTANT_E:
        return sympy.E
    if t == libsbml.AST_CONSTANT_PI:
        return sympy.pi
    if t == libsbml.AST_CONSTANT_TRUE:
        return sympy.true
    if t == libsbml.AST_CONSTANT_FALSE:
        return sympy.false
    if t == libsbml.AST_PLUS:
        return sympy.Add(*kids)
    if t == libsbml.AST_MINUS:
        return -kids[0] if len(kids) == 1 else kids[0] - kids[1]
    if t == libsbml.AST_TIMES:
        return sympy.Mul(*kids)
    if t == libsbml.AST_DIVIDE:
        return kids[0] / kids[1]
    if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
        return kids[0] ** kids[1]
    if t == libsbml.AST_FUNCTION_ROOT:
        return kids[1] ** (1 / kids[0]) if len(kids) == 2 else sympy.sqrt(kids[0])
    if t == libsbml.AST_FUNCTION_LOG:
        return sympy.log(kids[1], kids[0]) if len(kids) == 2 else sympy.log(kids[0], 10)
    if t == libsbml.AST_FUNCTION_PIECEWISE:
        pieces = [(kids[i], kids[i + 1]) for i in range(0, len(kids) - 1, 2)]
        otherwise = kids[-1] if len(kids) % 2 else sympy.nan
        return sympy.Piecewise(*pieces, (otherwise, True))
    relations = {libsbml.AST_RELATIONAL_LT: sympy.Lt, libsbml.AST_RELATIONAL_LEQ: sympy.Le,
                 libsbml.AST_RELATIONAL_GT: sympy.Gt, libsbml.AST_RELATIONAL_GEQ: sympy.Ge,
                 libsbml.AST_RELATIONAL_EQ: sympy.Eq, libsbml.AST_RELATIONAL_NEQ: sympy.Ne}
    if t in relations:
        return relations[t](*kids)
    if t == libsbml.AST_LOGICAL_AND:
        return sympy.And(*kids)
    if t == libsbml.AST_LOGICAL_OR:
        return sympy.Or(*kids)
    if t == libsbml.AST_LOGICAL_NOT:
        return sympy.Not(kids[0])
    name = (ast.getName() or "").lower()
    if name in _FUNCTIONS:
        return _FUNCTIONS[name](*kids)
    raise NotSupported(f"the math construct {libsbml.formulaToL3String(ast)!r}")
