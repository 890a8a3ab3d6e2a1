"""What ``_protocol.py`` needs of the ``cython`` module when Cython is not
installed (a pure-Python install): it then runs as plain Python."""

compiled = False
NULL = None
