"""The ``remotejobs`` command-line client (see :mod:`remotejobs.cli.main`)."""
