"""Run the headline combination study: python experiments/mpnst_combinations/run.py [--smoke] [--out DIR] [--force]."""

import argparse
from pathlib import Path

import simulator as ms

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/mpnst_combinations"))
    parser.add_argument("--smoke", action="store_true", help="small grids (what the tests run)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--force", action="store_true", help="replace an earlier run of the study in --out")
    args = parser.parse_args()
    result = ms.run_study(HERE / "config.toml", args.out, smoke=args.smoke, workers=args.workers, force=args.force)
    print(f"report: {result.report}")


if __name__ == "__main__":  # worker processes re-import this file; only the parent runs the study
    main()
