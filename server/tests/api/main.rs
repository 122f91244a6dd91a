//! HTTP-level tests: one binary, one module per playbook. Every storage test runs against
//! SQLite and, when `MERCATO_TEST_PG_URL` is set (`./x test` sets it), PostgreSQL.

mod accounts;
mod admin_pricing;
mod analytics;
mod authz;
mod backups;
mod catalog;
mod checkout;
mod community;
mod errors;
mod experiments;
mod faults;
mod flags;
mod helpers;
mod insights;
mod loyalty;
mod openapi;
mod operations;
mod outbox;
mod plans;
mod pricing;
mod pricing_signals;
mod recommendations;
mod referrals;
mod reviews;
mod search;
mod security;
