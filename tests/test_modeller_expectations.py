"""What a modeller expects of the CLI (issue 19 item 5): initial conditions unless asked or dosed, a note and a
manifest entry whenever mekisim pre-equilibrates, --version, help text on every option and examples per verb."""

from __future__ import annotations

import argparse
import json
import shlex

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.cli import main
from simulator.cli._parser import EXAMPLES, _attach_dash_values, build_parser

#: A -> B -> 0, no drug, no [pre_equilibration]: its steady state is all zeros, its initial state is A = 1
DECAY_CHAIN = """
model decay
  compartment cell = 1;
  species A in cell = 1; species B in cell = 0;
  k1 = 0.1; k2 = 0.05;
  J1: A -> B; k1*A;
  J2: B -> ; k2*B;
end
"""


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_model_without_dose_starts_from_its_initial_conditions(capsys, tmp_path):
    path = tmp_path / "decay.ant"
    path.write_text(DECAY_CHAIN, encoding="utf-8")
    out = tmp_path / "tc.csv"
    code, _, err = _run(capsys, "simulate", "--model", str(path), "--time", "0:30:61", "--out", str(out))
    assert code == 0, err
    frame = pd.read_csv(out)
    t = frame["time_model_units"].to_numpy()
    exact_a = np.exp(-0.1 * t)  # analytic: A(t) = e^{-k1 t}; B(t) = k1/(k2-k1) (e^{-k1 t} - e^{-k2 t})
    exact_b = 0.1 / (0.05 - 0.1) * (np.exp(-0.1 * t) - np.exp(-0.05 * t))
    np.testing.assert_allclose(frame["A"], exact_a, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(frame["B"], exact_b, rtol=1e-4, atol=1e-8)
    assert not frame["pre_equilibrated"].any() and "pre-equilibrated" not in err
    manifest = json.loads((tmp_path / "tc.manifest.json").read_text())
    assert manifest["pre_equilibration"]["done"] is False
    assert "no dose" in manifest["pre_equilibration"]["reason"]


def test_pre_equilibration_when_asked_is_said_on_stderr_and_in_the_manifest(capsys, tmp_path):
    path = tmp_path / "decay.ant"
    path.write_text(DECAY_CHAIN, encoding="utf-8")
    out = tmp_path / "tc.csv"
    code, _, err = _run(capsys, "simulate", "--model", str(path), "--time", "0:30:7", "--pre-equilibrate",
                        "--out", str(out))
    assert code == 0, err
    frame = pd.read_csv(out)
    assert frame["pre_equilibrated"].all() and np.abs(frame[["A", "B"]].to_numpy()).max() < 1e-6  # the zeros
    assert "note: pre-equilibrated (--pre-equilibrate)" in err
    entry = json.loads((tmp_path / "tc.manifest.json").read_text())["pre_equilibration"]
    assert entry["asked"] is True and entry["done"] is True


def test_dosed_and_declared_protocols_pre_equilibrate_and_say_so(capsys, tmp_path):
    code, out, err = _run(capsys, "simulate", "--model", "mpnst", "--dose", "trametinib=3nM", "--time", "0:1h:2")
    assert code == 0 and "pre-equilibrated (trametinib dosed" in err
    assert pd.read_csv(__import__("io").StringIO(out))["pre_equilibrated"].all()
    code, _, err = _run(capsys, "simulate", "--model", "melanoma", "--time", "0:1h:2", "--out", str(tmp_path / "b.csv"))
    assert code == 0 and "declares a [pre_equilibration] protocol" in err and "population_on = 0" in err
    entry = json.loads((tmp_path / "b.manifest.json").read_text())["pre_equilibration"]
    assert entry["done"] is True and entry["protocol"] == {"population_on": 0.0}


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mekisim {simulator.__version__} (libroadrunner ")
    assert main(["--version"]) == 0


def _verb_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_has_help_and_every_verb_ends_with_examples(capsys):
    missing = [f"{verb} {action.option_strings or action.dest}"
               for verb, parser in _verb_parsers().items() for action in parser._actions if not action.help]
    assert not missing
    for verb, parser in _verb_parsers().items():
        text = parser.format_help()
        assert text.rstrip().splitlines()[-1].startswith("  "), verb
        assert "\nexamples:\n" in text and 1 <= len(EXAMPLES[verb]) <= 3, verb


@pytest.mark.parametrize("verb", sorted(EXAMPLES))
def test_every_example_parses(verb):
    """The examples are real command lines: each parses (the ``...`` placeholders aside)."""
    parser = build_parser()
    for example in EXAMPLES[verb]:
        if "..." in example:
            continue
        argv = shlex.split(example.replace("\\\n", " "), comments=True)[1:]
        args = parser.parse_args(_attach_dash_values(parser, argv))
        assert args.command == verb
