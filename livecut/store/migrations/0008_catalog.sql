-- The catalog (issue 13): a tenant's products, a room's lineup of them, a brand's corrections.
-- A product's sku is unique within its tenant; `id` names it in the API and the media store
-- (products/<id>/...). images, aliases, titles, attributes and extraction are JSON: images are
-- media-store keys; attributes are the confirmed values; extraction is the last
-- `catalog.extract` result (values with confidence, source and evidence). `step` is where the
-- person confirming it stands: images, attributes, copy, layout, ready. Edits are audit rows.
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    sku TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT,
    brand TEXT,
    price DOUBLE PRECISION,
    images TEXT NOT NULL DEFAULT '[]',
    aliases TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    titles TEXT NOT NULL DEFAULT '{}',
    attributes TEXT NOT NULL DEFAULT '{}',
    extraction TEXT,
    step TEXT NOT NULL DEFAULT 'images',
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    UNIQUE (tenant, sku)
);

CREATE INDEX products_by_tenant ON products (tenant, updated_at);

-- A room's lineup: the product under each link number (1号链接). Replaced whole by the API.
CREATE TABLE lineups (
    room TEXT NOT NULL,
    link INTEGER NOT NULL,
    product TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (room, link)
);

CREATE INDEX lineups_by_product ON lineups (product);

-- A brand's corrections in the confirm steps, kept as examples for its next extraction
-- (catalog.BrandCorrections): {"attribute", "phrase", "value"} or {"attribute", "was", "value"}.
CREATE TABLE brand_corrections (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    brand TEXT NOT NULL,
    example TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX brand_corrections_by_brand ON brand_corrections (tenant, brand, created_at);

-- The product (its sku) an utterance is about and a clip shows, from the room's lineup.
ALTER TABLE utterances ADD COLUMN product TEXT;
ALTER TABLE clips ADD COLUMN product TEXT;
CREATE INDEX clips_by_product ON clips (product, created_at);
