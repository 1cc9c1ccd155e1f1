"""The metadata store: rooms, fragments, utterances, clips, reviews and tenancy, in SQLite or PostgreSQL."""

from livecut.store.catalog import PRODUCT_STEPS, CatalogConflict
from livecut.store.db import StoreError
from livecut.store.metadata import MetadataStore, Room, build_metadata_store
from livecut.store.tenancy import GrantError

__all__ = [
    "PRODUCT_STEPS",
    "CatalogConflict",
    "GrantError",
    "MetadataStore",
    "Room",
    "StoreError",
    "build_metadata_store",
]
