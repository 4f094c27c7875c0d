"""Fit Model A's resistant-state parameters to the representative MPNST blots: run.py [--smoke] [--out DIR]."""

import argparse
import tomllib
from pathlib import Path

import simulator as ms
from simulator.files import write_manifest
from simulator.fit import (
    FitSettings,
    ProfileSettings,
    blots_to_petab,
    fit_petab,
    profile_parameters,
    read_blot_data,
    write_fit_tables,
    write_profiles,
)
from simulator.parallel import make_executor
from simulator.report import draw_fit_figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/fit_mpnst_blots"))
    parser.add_argument("--smoke", action="store_true", help="2 starts, one short profile (what the tests run)")
    args = parser.parse_args()
    here = Path(__file__).parent
    cfg = tomllib.loads((here / "config.toml").read_text(encoding="utf-8"))
    run = {**cfg["fit"], **(cfg["smoke"] if args.smoke else {})}
    model = ms.load_model(cfg["model"])
    data = read_blot_data(here / cfg["data"])
    yaml_path = blots_to_petab(model, data, args.out / "petab", estimate=cfg["estimate"])
    with make_executor(run["workers"]) as executor:
        fit = fit_petab(yaml_path, starts=run["starts"], seed=run["seed"], executor=executor,
                        settings=FitSettings(max_nfev=run["max_nfev"]))
        profiles, errors = profile_parameters(fit, run["profile"], executor=executor,
                                              settings=ProfileSettings(max_points=run["profile_points"]))
    # one screen ensemble per resistant line: columns ksL, Itot (mekisim screen --cell-lines LINE --ensemble FILE)
    ensembles = {line: {f"{p}_{line}": p for p in params} for line, params in cfg["estimate"].items()}
    files = write_fit_tables(fit, args.out, ensembles) + write_profiles(profiles, args.out)
    info = {**fit.manifest_info(), "data": str(here / cfg["data"]), "representative_data": True,
            "profiles": [p.parameter for p in profiles], "profile_errors": list(errors), "time_unit": model.time_unit}
    files += draw_fit_figures(args.out, info)
    write_manifest(args.out / "manifest.json", models={cfg["model"]: model}, seed=run["seed"],
                   counts={"starts": len(fit.starts), "starts_ok": fit.n_ok, "ensemble_members": len(fit.within())},
                   files=sorted({f.name for f in files}), extra={"fit": info, "config": run})
    print(f"best nllh {fit.best.nllh:.4f}; {fit.n_ok}/{len(fit.starts)} starts ok; {len(fit.within())} within 1.92")
    print(fit.parameter_table().to_string(index=False))
    for p in profiles:
        print(f"{p.parameter}: 95% CI [{p.ci_low:.4g}, {p.ci_high:.4g}] (bounds hit: {p.reached_bound})")
    return 1 if errors or not fit.n_ok else 0


if __name__ == "__main__":  # worker processes re-import this file; only the parent runs the study
    raise SystemExit(main())
