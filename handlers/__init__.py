"""Channel-agnostic logic: the citizen dialogue, classification, deadlines and texts."""
