"""python -m medsearch_app -> the medsearch command."""

from medsearch_app.cli import main

raise SystemExit(main())
