"""``python -m simulator.cli``: the mekisim command line."""

from . import main

raise SystemExit(main())
