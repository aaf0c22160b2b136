"""Load benchmarks of aid-directory (not part of the test run): see bench/README.md."""
