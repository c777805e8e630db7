"""Settings modules: base, local (embedded default), test, production."""
