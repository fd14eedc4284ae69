"""The ``feedback`` command line (Typer). Sub-apps live in their own modules."""
