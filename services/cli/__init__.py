"""The `leadrouter` admin CLI: one module per command group, gathered in `__main__`."""
