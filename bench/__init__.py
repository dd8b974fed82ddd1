"""Benchmarks: every figure a ratio measured side by side in one run against emulators on 127.0.0.1."""
