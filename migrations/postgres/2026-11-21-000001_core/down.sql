DROP TABLE certificates;
DROP TABLE products;
DROP TABLE api_tokens;
DROP TABLE signing_keys;
DROP TABLE organizations;
