"""The built-in offline lab: a procedural image world and labnet, a small CNN pretrained on it."""
