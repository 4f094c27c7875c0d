"""Sensitivity of synergy and resistance: python experiments/sensitivity_combination/run.py [--smoke] [--out DIR]."""

import argparse
import json
import tomllib
from pathlib import Path

import pandas as pd

import simulator as ms
from simulator.report import build_report
from simulator.sensitivity import ParameterSpace, SensitivitySpec, load_ranges, parse_output, run_sensitivity

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/sensitivity_combination"))
    parser.add_argument("--smoke", action="store_true", help="tiny designs (what the tests run)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    cfg = tomllib.loads((HERE / "config.toml").read_text(encoding="utf-8"))
    smoke = cfg["smoke"] if args.smoke else {}
    workers = 1 if args.smoke else args.workers
    model = ms.load_model(cfg["model"])
    outputs = [parse_output(text, model) for text in cfg["outputs"]]
    space = load_ranges(HERE / cfg["ranges"], model)
    morris = SensitivitySpec(model, space, outputs, method="morris", n=smoke.get("morris_n", cfg["morris"]["n"]),
                             levels=cfg["morris"]["levels"], seed=cfg["seed"], on_failure="drop")
    stage1 = run_sensitivity(morris, args.out / "stage1_morris", workers=workers, progress=not args.smoke)
    mu = stage1.indices[stage1.indices["index"] == "mu_star"].pivot(index="parameter", columns="column", values="value")
    score = (mu / mu.max()).max(axis=1).sort_values(ascending=False)
    top = score.index[: smoke.get("sobol_top", cfg["sobol"]["top"])].tolist()
    outputs2 = outputs + [parse_output(text, model) for text in cfg["outputs_stage2"]]
    sobol = SensitivitySpec(model, ParameterSpace(tuple(r for r in space.ranges if r.id in top), space.factor),
                            outputs2, method="sobol", n=smoke.get("sobol_n", cfg["sobol"]["n"]), seed=cfg["seed"],
                            on_failure="drop")
    stage2 = run_sensitivity(sobol, args.out / "stage2_sobol", workers=workers, progress=not args.smoke)
    ev = pd.read_parquet(args.out / "stage2_sobol" / "evaluations.parquet")
    first = stage2.columns["column"].tolist()[:3]  # the output columns, named by their specs, in output order
    ci, shift, perk = (ev[c] for c in first)
    t = cfg["thresholds"]
    summary = {"morris_score": score.round(4).to_dict(), "sobol_parameters": top, "rows": len(ev),
               "undefined": {c: float(ev[c].isna().mean()) for c in first},
               "p_synergy": float((ci < t["synergy_ci"]).sum() / ci.notna().sum()),
               "ci_quantiles": ci.quantile([0.05, 0.5, 0.95]).round(4).tolist(),
               "p_resistant": float((shift >= t["resistance_shift"]).sum() / shift.notna().sum()),
               "shift_quantiles": shift.quantile([0.05, 0.5, 0.95]).round(3).tolist(),
               "perk_shift_quantiles": perk.quantile([0.05, 0.5, 0.95]).round(3).tolist(),
               "warnings": {"stage1": list(stage1.warnings), "stage2": list(stage2.warnings)}}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "warnings"}, indent=1))
    print(f"report: {build_report(args.out)}")


if __name__ == "__main__":  # worker processes re-import this file; only the parent runs the study
    main()
