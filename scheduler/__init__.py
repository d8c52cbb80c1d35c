"""A GitHub-Actions-native publication scheduler whose database is the repository itself."""

__version__ = "0.1.0"
