"""Fit Model B's escape timing (kesc, kEMT) to the representative SKMEL30 time course: run.py [--smoke] [--out DIR]."""

import argparse
import tomllib
from pathlib import Path

import simulator as ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/melanoma_fit"))
    parser.add_argument("--smoke", action="store_true", help="2 starts, one short profile (what the tests run)")
    args = parser.parse_args()
    here = Path(__file__).parent
    cfg = tomllib.loads((here / "config.toml").read_text(encoding="utf-8"))
    run = {**cfg["fit"], **(cfg["smoke"] if args.smoke else {})}
    yaml_path = here / cfg["problem"]
    model = ms.objective_for(yaml_path).problem.model
    with ms.make_executor(run["workers"]) as executor:
        fit = ms.fit_petab(yaml_path, starts=run["starts"], seed=run["seed"], executor=executor,
                           settings=ms.FitSettings(max_nfev=run["max_nfev"]))
        profiles, errors = ms.profile_parameters(fit, run["profile"], executor=executor,
                                                 settings=ms.ProfileSettings(max_points=run["profile_points"]))
    ms.write_fit(fit, args.out, profiles=profiles, profile_errors=errors, models={"melanoma": model},
                 info={"data": str(yaml_path), "representative_data": True, "title": cfg["title"],
                       "time_unit": model.time_unit}, extra={"config": run}, draw=ms.draw_fit_figures)
    print(f"best nllh {fit.best.nllh:.4f}; {fit.n_ok}/{len(fit.starts)} starts ok; {len(fit.within())} within 1.92")
    print(fit.parameter_table().to_string(index=False))
    for p in profiles:
        print(f"{p.parameter}: 95% CI [{p.ci_low:.4g}, {p.ci_high:.4g}] (identifiable: {p.identifiable})")
    return 1 if errors or not fit.n_ok else 0


if __name__ == "__main__":  # worker processes re-import this file; only the parent runs the study
    raise SystemExit(main())
