"""Full-text search behind one small interface."""
