//! The composition root: configuration, database, migrations, HTTP routes, background
//! workers. Domain rules live in the `app` crate; this crate wires them to the world.

pub mod backup;
pub mod bench_analytics;
pub mod bench_anchors;
pub mod bench_assign;
pub mod bench_flags;
pub mod bench_loyalty;
pub mod bench_recs;
pub mod bench_repricing;
pub mod bench_reviews;
pub mod bench_shoppers;
pub mod config;
pub mod routes;
pub mod sample;
pub mod seed;
pub mod startup;
pub mod telemetry;
