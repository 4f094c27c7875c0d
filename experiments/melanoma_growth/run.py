"""Model B growth curves (DMSO, each drug alone, combination; 33 days): run.py [--smoke] [--out DIR]."""

import argparse
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

import simulator as ms
from simulator.files import write_manifest, write_table
from simulator.plots import plot_growth_curves, save_figure

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", type=Path, default=Path("results/melanoma_growth"))
parser.add_argument("--smoke", action="store_true", help="daily output (what the tests run)")
args = parser.parse_args()
cfg = tomllib.loads(Path(__file__).with_name("config.toml").read_text(encoding="utf-8"))
opts = {**cfg, **(cfg["smoke"] if args.smoke else {})}
model, days = ms.load_model(cfg["model"]), np.arange(0.0, cfg["days"] + 1e-9, opts["step_h"] / 24)
hours, obs = 24.0 * days, {o.id: o for o in model.observables}
runs = {line: {arm: ms.time_course(model, hours, ms.make_condition(model, line, doses), select=cfg["observables"])
               for arm, doses in cfg["arms"].items()} for line in cfg["lines"]}


def stats(t, dmso):  # dmso: the same line's DMSO course; drug added at t = 0 (day 0)
    n, sen, at = t["N"], t["senescent_fraction"], {d: int(np.argmin(abs(days - d))) for d in (1, 3, 7)}
    return {**{f"N_day{d}": n[i] for d, i in at.items() if d > 1},
            **{f"pct_of_DMSO_day{d}": 100 * n[i] / dmso["N"][i] for d, i in at.items() if d > 1},
            "N_day33": n[-1], "pct_of_DMSO_day33": 100 * n[-1] / dmso["N"][-1], "N33_over_Nmin": n[-1] / n.min(),
            "E2F_mean_days1_7": t["E2F"][(days >= 1) & (days <= 7)].mean(), "apoptosis_day1_per_h":
            t["apoptosis"][at[1]], "senescent_50pct_day": days[np.argmax(sen > 0.5)] if sen.max() > 0.5 else None,
            "senescent_peak": sen.max(), "senescent_day33": sen[-1], "escaped_day33": t["escaped_fraction"][-1]}


summary = pd.DataFrame([{"line": line, "condition": arm, **stats(t, arms["DMSO"])}
                        for line, arms in runs.items() for arm, t in arms.items()])
courses = pd.concat([t.to_frame().drop(columns=["status", "message"]).assign(line=line, condition=arm)
                     for line, arms in runs.items() for arm, t in arms.items()], ignore_index=True)
files = [write_table(summary, args.out / "summary.csv").name, write_table(courses, args.out / "time_courses.csv").name]
note = "prototype model, representative, not data"
fig = plot_growth_curves({line: {arm: (hours, t) for arm, t in arms.items()} for line, arms in runs.items()}, obs,
                         time_unit=model.time_unit, colors=cfg["colors"],
                         title=f"Model B (simulated, {note}): DMSO, each drug alone and the combination from day 0")
files += [p.name for p in save_figure(fig, args.out / "growth_curves.png")]
write_manifest(args.out / "manifest.json", models={cfg["model"]: model}, files=files,
               counts={"runs": len(cfg["lines"]) * len(cfg["arms"])}, extra={"config": cfg, "smoke": args.smoke,
                                                                          "label": note})
