"""catalog: products, attribute schemas, extraction with evidence, product linking, platform listings.

Depends on livecut.contracts only (Utterance is duck-typed: anything with text, t0, t1, sublabel).
"""

from catalog.adlaw import Finding, ad_law_findings
from catalog.colors import dominant_colors, name_color
from catalog.composition import CompositionPart, parse_composition
from catalog.corrections import BrandCorrections
from catalog.errors import CatalogError, CompositionError
from catalog.export import ExportReport, export, product_from_dict
from catalog.extract import ExtractionResult, extract
from catalog.images import ImageAnalysis, analyse_image
from catalog.linker import Link, ProductLinker, product_of_span
from catalog.model import AttributeValue, LineupEntry, Product
from catalog.platforms import PlatformProfile, count_length, load_platforms
from catalog.products import ImportErrors, load_products
from catalog.schema import Schema, load_schemas
from catalog.settings import CatalogSettings

__all__ = [
    "AttributeValue",
    "BrandCorrections",
    "CatalogError",
    "CatalogSettings",
    "CompositionError",
    "CompositionPart",
    "ExportReport",
    "ExtractionResult",
    "Finding",
    "ImageAnalysis",
    "ImportErrors",
    "LineupEntry",
    "Link",
    "PlatformProfile",
    "Product",
    "ProductLinker",
    "Schema",
    "ad_law_findings",
    "analyse_image",
    "count_length",
    "dominant_colors",
    "export",
    "extract",
    "load_platforms",
    "load_products",
    "load_schemas",
    "name_color",
    "parse_composition",
    "product_from_dict",
    "product_of_span",
]
