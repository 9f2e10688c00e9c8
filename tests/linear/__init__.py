"""Linear, twice: declared with the SDK's HttpCheck (provider.py) and hand-written
(handwritten.py), run through the same tests (test_linear.py) against a fake Linear."""
