-- A message not copied is listed with its reason's words: the server's own
-- (a refusal) or the sizes (a body larger than declared). reason stays the
-- code rendered in the reader's language (too_large, not_delivered, …).
ALTER TABLE skipped_messages ADD COLUMN detail text NOT NULL DEFAULT '';
