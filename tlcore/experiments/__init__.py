"""Lab applications beside the CLI: the quadrant experiment, labnet's pretraining (and the sweeps)."""
