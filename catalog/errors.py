"""Errors that name the field of the input they are about, so a user knows what to fix."""

from __future__ import annotations


class CatalogError(ValueError):
    """Bad catalog input. `field` is the input's path ("images[2]", "title", "rows[4].price")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CompositionError(CatalogError):
    """A fibre composition that cannot be read or does not sum to 100 %."""
