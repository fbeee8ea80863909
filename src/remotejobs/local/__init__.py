"""The built-in ``local`` backend: jobs run as local process groups (no cluster needed)."""
