"""The ``deid`` command line: one module per subcommand, dispatched by :mod:`deid.cli.main`."""
