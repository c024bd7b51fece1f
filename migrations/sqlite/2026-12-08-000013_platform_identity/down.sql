DROP TABLE platform_identity;
