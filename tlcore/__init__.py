"""Transfer Learning Decision Map: the logic behind the app (never imports streamlit)."""

__version__ = "0.1.0"
