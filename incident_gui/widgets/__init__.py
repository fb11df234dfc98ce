"""Widgets of the inspector: one widget per file, small."""
