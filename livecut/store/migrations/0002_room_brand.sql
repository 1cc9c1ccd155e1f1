-- A room's brand routes its reviews to the brand's own classifier model.
ALTER TABLE rooms ADD COLUMN brand TEXT;
