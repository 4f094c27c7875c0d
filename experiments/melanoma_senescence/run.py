"""Model B over 33 days and prediction B7: python experiments/melanoma_senescence/run.py [--smoke] [--out DIR]."""

import argparse
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

import simulator as ms
from simulator.files import write_manifest, write_table
from simulator.plots import plot_escape_prediction, plot_senescence_time_courses, save_figure

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", type=Path, default=Path("results/melanoma_senescence"))
parser.add_argument("--smoke", action="store_true", help="daily output and 4-dose sweeps (what the tests run)")
args = parser.parse_args()
cfg = tomllib.loads(Path(__file__).with_name("config.toml").read_text(encoding="utf-8"))
opts, pred, treat = {**cfg, **(cfg["smoke"] if args.smoke else {})}, cfg["prediction"], cfg["treatment"]
model, tables = ms.load_model(cfg["model"]), []
hours, obs = np.arange(0.0, 24.0 * cfg["days"] + 1e-9, opts["step_h"]), {o.id: o for o in model.observables}


def simulate(line, label, doses, values=None):  # drug added at t = 0 to a pre-equilibrated culture
    traj = ms.time_course(model, hours, ms.make_condition(model, line, doses, values=values), select=cfg["observables"])
    tables.append(traj.to_frame().drop(columns=["status", "message"]).assign(line=line, condition=label))
    return traj


def stats(t):  # day 33 is the last point
    n, sen, erk5 = t["N"], t["senescent_fraction"], t["ERK5a"]
    return {"N_day33": n[-1], "N33_over_Nmin": n[-1] / n.min(), "senescent_peak": sen.max(),
            "peak_day": hours[np.argmax(sen)] / 24, "senescent_day6": sen[hours == 144][0], "senescent_day33": sen[-1],
            "ERK5_day0": erk5[0], "ERK5_day33": erk5[-1], "STAT1_max": t["STAT1"].max(), "EMT_max": t["EMT"].max()}


runs = {line: simulate(line, "combination", treat) for line in cfg["lines"]}
summary = pd.DataFrame([{"line": k, **stats(t), "prototype_P": cfg["prototype"][k]} for k, t in runs.items()])
conditions = {"combination": (treat, None), **{label: (treat, v) for label, v in pred["variants"].items()},
              **{pred["labels"][b]: ({**treat, b: d}, None) for b, d in pred["blockers"].items()}}
courses = {k: {c: (hours, simulate(k, c, d, v)) for c, (d, v) in conditions.items()} for k in pred["lines"]}
rows = [{"line": k, "condition": c, "blocker_nM": 0, **stats(t)} for k, s in courses.items() for c, (_, t) in s.items()]
for b, span in pred["sweep"].items():
    rows += [{"line": k, "condition": f"sweep {b}", "blocker": pred["names"][b], "blocker_nM": x,
              **stats(simulate(k, f"{b} {x:.4g} nM", {**treat, b: x}))}
             for k in pred["lines"] for x in np.geomspace(*span, opts["sweep_points"])]
table = pd.DataFrame(rows)
sweeps = {b: {k: tuple(g[c].to_numpy() for c in ("blocker_nM", "N_day33", "senescent_day33"))
              for k, g in rows_b.groupby("line", sort=False)} for b, rows_b in table.groupby("blocker", sort=False)}
frames = {"summary": summary, "prediction_B7": table, "time_courses": pd.concat(tables, ignore_index=True)}
files = [write_table(frame, args.out / f"{name}.csv").name for name, frame in frames.items()]
note, combo = "prototype model, representative, not data", " + ".join(f"{d} {x:g} nM" for d, x in treat.items())
for name, fig in (("time_courses", plot_senescence_time_courses({k: (hours, t) for k, t in runs.items()}, obs,
                   time_unit=model.time_unit, title=f"Model B (simulated, {note}): {combo} from day 0")),
                  ("prediction_B7", plot_escape_prediction(courses, sweeps, obs, time_unit=model.time_unit, sweep_day=
                   cfg["days"], title=f"Prediction B7 (simulated, {note}): {combo} plus a blocker"))):
    files += [p.name for p in save_figure(fig, args.out / f"{name}.png")]
write_manifest(args.out / "manifest.json", models={cfg["model"]: model}, files=files, counts={"runs": len(tables)},
               extra={"config": cfg, "smoke": args.smoke, "label": note})
