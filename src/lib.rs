//! Central Auth: one server that many services use to log their users in
//! with a QR code and a PIN instead of passwords.
//!
//! # Module map
//!
//! Requests come in at the edge, the domain decides, storage remembers.
//! Each folder has one job and may import only what its line names (a
//! module never imports a layer to its left):
//!
//! | module | its one job | may import |
//! | --- | --- | --- |
//! | [`startup`], [`cli`] | put the server together (open the database, make the domain core, bind) and the admin subcommands | everything |
//! | [`http`] | the edge: routes, extractors, problem+json, the console pages, the static web faces, `/docs` | `domain`, `clock` |
//! | [`email`] | delivery: the SMTP or log transport and the worker that drains the outbox | the domain's records, `storage::Database`, `config`, `clock` |
//! | [`domain`] | the rules: parsed value types, the records and commands the rules speak in, the services on `Core`, the emails the rules owe | `storage::Database` (the handle only), `clock` |
//! | [`storage`] | the only place with SQL: row structs, their conversion to the domain's records, the caches of rows | the domain's types (never `Core`), `clock` |
//! | [`config`], [`clock`], [`telemetry`] | settings, time as an input, logs | nothing of the above |
//!
//! Storage speaks in the domain's types so that the domain never sees a
//! row; the domain holds a `Database` to call, and that handle is the only
//! storage item it names.

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod email;
pub mod http;
pub mod startup;
pub mod storage;
pub mod telemetry;
