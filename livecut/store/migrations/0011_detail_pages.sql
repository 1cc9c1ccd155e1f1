-- Detail pages (issue 16): a product's detail plan as a person edits it, its renders per platform,
-- and what each brand keeps (catalog.detail.BrandMemory). All three are JSON documents the
-- catalog.detail package reads and writes (DetailPlan, RenderResult, BrandMemory .to_json()).
CREATE TABLE detail_plans (
    product TEXT PRIMARY KEY,
    plan TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

-- The last render of a product's detail page for a platform: its slices' media keys and violations.
CREATE TABLE detail_renders (
    product TEXT NOT NULL,
    platform TEXT NOT NULL,
    result TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (product, platform)
);

-- A brand's detail memory per tenant (brand "" holds that of products without one).
CREATE TABLE brand_detail_memory (
    tenant TEXT NOT NULL,
    brand TEXT NOT NULL,
    memory TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant, brand)
);
