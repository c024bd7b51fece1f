-- Who a GTIN belongs to: one organization per trade item number (`gtin`, its 14-digit form) or
-- per GS1 company prefix (`company_prefix`, 6 to 12 digits of the GTIN-13 form), the first to
-- register it unless a regulator or the platform admin reassigns it.
CREATE TABLE gtin_owners (
    prefix TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('gtin', 'company_prefix')),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    assigned_at TIMESTAMP NOT NULL
);
CREATE INDEX gtin_owners_organization ON gtin_owners (organization_id);
-- Products registered before: each GTIN goes to the organization that registered it first.
INSERT INTO gtin_owners (prefix, kind, organization_id, assigned_at)
SELECT substr('00000000000000' || p.gtin, length(p.gtin) + 1, 14), 'gtin', p.organization_id, p.created_at
FROM products p
WHERE p.gtin IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM products q
    WHERE q.gtin IS NOT NULL
      AND substr('00000000000000' || q.gtin, length(q.gtin) + 1, 14) = substr('00000000000000' || p.gtin, length(p.gtin) + 1, 14)
      AND (q.created_at < p.created_at OR (q.created_at = p.created_at AND q.id < p.id))
  );
