"""Template tags of the designer app."""
