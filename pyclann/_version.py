"""The version of pyclann: the build reads it (pyproject.toml), and every request sends it in its User-Agent."""

__version__ = "0.2.0"
