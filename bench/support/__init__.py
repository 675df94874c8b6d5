"""What the benchmarks share with the tests: building a council, a sitting, a document, a session.

The tests import from here (``tests/factories.py`` re-exports the factories); nothing here imports
the tests, so the benchmarks never do either.
"""
