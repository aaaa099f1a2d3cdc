-- The monitoring store's own database beside the registry's (compose.yaml).
CREATE DATABASE strata_monitoring OWNER strata;
