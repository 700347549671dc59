"""`python -m emolens` runs the CLI."""

from emolens.cli import main

raise SystemExit(main())
