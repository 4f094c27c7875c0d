"""``mekisim teach``: the lessons and the live teaching page (the work is in :mod:`simulator.teach`)."""

from __future__ import annotations

import argparse


def _teach(args: argparse.Namespace) -> int:
    """Dispatch ``mekisim teach`` to :mod:`simulator.teach` (imported here: Dash/nbconvert load only when used)."""
    from .. import teach

    if args.teach_command == "list":
        for lesson in teach.lessons():
            print(lesson.line())
        return 0
    if args.teach_command == "run":
        done = teach.run_lesson(args.number, args.out, smoke=args.smoke, force=args.force)
        print(f"mekisim teach run: lesson {done.number} ({'smoke' if done.smoke else 'full'} grids, "
              f"{done.seconds:.0f} s): {done.html} and {done.notebook}")
        return 0
    return teach.serve(args.host, args.port)
