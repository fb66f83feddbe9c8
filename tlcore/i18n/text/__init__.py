"""UI text modules: each holds EN and KO dicts with the same keys."""
