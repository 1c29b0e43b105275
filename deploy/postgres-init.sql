-- The two roles of a Stocktake database (README: "The database guard, and its
-- two roles"), run once by the postgres image when it creates its data folder.
-- stocktake_owner owns the tables (migrations, rebuilds, grants); the served
-- process connects as stocktake_service, which `stocktake db
-- grant-service-role` allows only to INSERT into and SELECT from the event
-- log and its Merkle tree. Change both passwords outside a trial.
CREATE ROLE stocktake_owner LOGIN PASSWORD 'stocktake_owner';
CREATE ROLE stocktake_service LOGIN PASSWORD 'stocktake_service';
CREATE DATABASE stocktake OWNER stocktake_owner;
