"""The compiled model and what its metadata declares: observables and phenotype readouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .._frozen import reduce_frozen
from ..errors import InputError


@dataclass(frozen=True)
class Observable:
    """A named model output: an SBML id plus the label and unit a table or plot shows."""

    id: str
    label: str
    unit: str


#: How a declared readout turns its value into a fraction affected for synergy scores (None: it has none).
EFFECT_FORMS = ("value", "1-value", "1-value/100")


#: What a declared readout reads from its time course: the value at ``time``, or that value over the
#: minimum between drug addition and ``time`` (regrowth after a nadir).
READOUT_STATISTICS = ("value", "over_min")


@dataclass(frozen=True)
class DeclaredReadout:
    """A phenotype readout a model declares in its metadata (``[readouts.<id>]`` of ``<model>.toml``).

    Why: the readouts of :mod:`simulator.readouts` built for Model A (CCK-8 at 72 h from ``g`` and ``d``) do
    not fit every model; Model B's senescent fraction at day 33 is read from its own population species.
    A declared readout is read from a pre-equilibrated time course with the drug added at t = 0.

    Attributes
    ----------
    id, label, unit, description
        Identity and what a table or plot shows.
    observable
        The model id read (species, parameter or assignment-rule target).
    time
        Time after drug addition, in model time units.
    statistic
        One of :data:`READOUT_STATISTICS`.
    percent_of_untreated
        Report ``100 * value / value_untreated`` (same line, every dose 0), like CCK-8 viability.
    effect
        One of :data:`EFFECT_FORMS` (fraction affected for synergy and dose-response), or ``None``.
    """

    id: str
    label: str
    unit: str
    description: str
    observable: str
    time: float
    statistic: str = "value"
    percent_of_untreated: bool = False
    effect: str | None = None


@dataclass(frozen=True)
class Switch:
    """A named switch of a model (``[switches]`` of its metadata): the values that turn it OFF.

    Why named: ``--switch-off sos_feedback`` reads like the lesson, where ``--set open_S=1`` needs the model's
    source. The values are applied like ``--set`` (every condition, so before pre-equilibration).

    Attributes
    ----------
    name
        The switch's name (``sos_feedback``).
    values
        Settable id -> the value that turns the switch off.
    note
        What it switches (the comment after its entry in the metadata file, or its ``note = "..."``).
    """

    name: str
    values: Mapping[str, float]
    note: str = ""

    __reduce__ = reduce_frozen


@dataclass(frozen=True)
class CompiledModel:
    """An SBML model with the ids mekisim needs, identified by the sha256 of its SBML text.

    Attributes
    ----------
    name
        Bundled name or file stem.
    sbml
        SBML text (what the engine compiles; workers rebuild from it).
    sha256
        Hash of ``sbml``; the engine's cache key.
    source
        Where it came from (a path, or ``"<text>"``).
    species
        Floating species ids (values are concentrations).
    parameters
        Default values of every settable global parameter (not an assignment-rule, rate-rule or
        initial-assignment target).
    species_initial
        Default initial concentrations of species without an initial assignment (settable).
    assigned
        Ids computed by assignment rules (readable, not settable).
    concentration_ids
        Every SBML species id (floating, boundary or rule-defined) reported as a concentration: all but those
        with ``hasOnlySubstanceUnits``, whose value is their amount (SBML semantics, as AMICI and COPASI read it).
    reactions
        Reaction ids.
    observables
        Declared observables; defaults to one per floating species.
    time_unit
        ``"s"``, ``"min"``, ``"h"``, ``"d"`` or ``None`` when undeclared.
    title
        Human-readable description.
    pre_equilibration
        Settable id -> value applied on top of the untreated condition only while a time course is
        pre-equilibrated (never to the treated run); empty for most models.
    readouts
        Phenotype readouts the model declares in its metadata (:class:`DeclaredReadout`); empty for most.
    fixed_parameters
        Parameter id -> why analyses hold it at its default (metadata ``[fixed_parameters]``: switches,
        initial conditions, numerical constants); sensitivity ranges leave them out by default.
    no_steady_state
        Why the model has no steady state (metadata ``no_steady_state``, e.g. a growing cell population), or
        ``""``. The engine then refuses steady-state requests at once with this reason instead of searching.
    switches
        Named switches the metadata declares (``[switches]``: :class:`Switch`); empty for most models.
    cell_lines_of
        The model whose bundled cell lines (``cell_lines.toml``, ``model = ...``) apply to this one: the
        metadata's ``cell_lines_of``, so a renamed copy of a bundled model keeps its lines; ``""`` means
        :attr:`name`.
    rate_ruled
        Ids whose value an SBML rate rule integrates (species, parameters or compartments): part of the state a
        pre-equilibration carries, readable, not settable.
    derived
        Other ids a simulation can report but nobody sets: rate-rule targets, parameters and compartments defined
        by an initial assignment, compartments, boundary species.
    events
        Ids (or positions) of the SBML events; roadrunner simulates them, but analyses that need the whole state
        (PEtab pre-equilibration, sensitivities) refuse them.
    breakpoints
        Expressions (sympy syntax over parameter and compartment ids) of the times at which a rule or rate law
        switches (``piecewise(.., time < t_on, ..)``); the engine restarts the integrator there.
    metadata_sha256
        Hash of the metadata in effect (readouts, observables, fixed parameters... canonical JSON, keys
        sorted), ``""`` when the model has none. :attr:`sha256` covers the SBML only, and the metadata changes
        results too (a readout's time or statistic), so manifests record both.
    """

    name: str
    sbml: str = field(repr=False)
    sha256: str
    source: str
    species: tuple[str, ...]
    parameters: Mapping[str, float] = field(repr=False)
    species_initial: Mapping[str, float] = field(repr=False)
    assigned: tuple[str, ...] = field(repr=False)
    concentration_ids: frozenset[str] = field(repr=False)
    reactions: tuple[str, ...] = field(repr=False)
    observables: tuple[Observable, ...]
    time_unit: str | None
    title: str = ""
    pre_equilibration: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    readouts: tuple[DeclaredReadout, ...] = ()
    no_steady_state: str = ""
    fixed_parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    metadata_sha256: str = ""
    switches: tuple[Switch, ...] = ()
    cell_lines_of: str = ""
    rate_ruled: tuple[str, ...] = field(default=(), repr=False)
    derived: tuple[str, ...] = field(default=(), repr=False)
    events: tuple[str, ...] = field(default=(), repr=False)
    breakpoints: tuple[str, ...] = field(default=(), repr=False)

    __reduce__ = reduce_frozen

    @property
    def observable_ids(self) -> tuple[str, ...]:
        """Ids of the declared observables, in declaration order."""
        return tuple(o.id for o in self.observables)

    def observable(self, obs_id: str) -> Observable:
        """Return the observable ``obs_id``; raise :class:`InputError` naming the valid ones."""
        for obs in self.observables:
            if obs.id == obs_id:
                return obs
        raise InputError(
            f"model {self.name!r} has no observable {obs_id!r}; valid observables: "
            f"{', '.join(self.observable_ids)}."
        )

    def readable_ids(self) -> tuple[str, ...]:
        """Every id whose value a simulation can report.

        Species, parameters, assignment-rule targets, and the :attr:`derived` ids (rate-rule targets, initial-
        assignment targets, compartments, boundary species).
        """
        return (*self.species, *self.parameters, *self.assigned, *self.derived)
