//! Tracing setup. The sink is a parameter so tests can silence logs unless `TEST_LOG` is set.

use tracing::subscriber::set_global_default;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// A formatting subscriber filtered by `RUST_LOG` (default `default_filter`).
pub fn get_subscriber<Sink>(default_filter: &str, sink: Sink) -> impl Subscriber + Send + Sync
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(sink).with_target(false).finish()
}

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init_subscriber(subscriber: impl Subscriber + Send + Sync) {
    let _ = set_global_default(subscriber);
}
