"""The open store behind the window: opening, live updates, settings and the demo (no widgets)."""
