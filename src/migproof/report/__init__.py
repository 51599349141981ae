"""Renderers: one module per format, each ``render(report, out)``."""
