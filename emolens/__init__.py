"""The `emolens` command: thin subcommands over `explain` and `models`."""
