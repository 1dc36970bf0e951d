"""Redis access: connection factory, key names, the comment store and the review queue."""
