//! `mercato`: the storefront server and its admin commands. Only wiring lives here.

use clap::{Parser, Subcommand};
use server::{config::Settings, seed, startup::Application, telemetry};

/// **Rationale:** a cached page's request allocates a few dozen small, short-lived blocks
/// (headers, cookies, the cache key, the body); glibc's malloc and free took about a tenth of
/// its CPU. The anchors of `./x bench` run in this same binary, so they get it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "mercato", version, about = "Mercato storefront engine")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the shop (the default). Migrates, and seeds the demo shop on an empty database.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Add deterministic synthetic data: the demo catalog, shoppers and N orders.
    Seed {
        /// Orders to generate (each with 1–4 lines).
        #[arg(long, default_value_t = 400)]
        orders: u64,
    },
    /// Copy the running shop's SQLite database to a new file (online: the server keeps
    /// serving). PostgreSQL: use pg_dump or WAL archiving (see README.md, "Backups").
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Replace the SQLite database of DATABASE_URL by a backup, after checking it. Stop the
    /// server first.
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace a database that already holds tables.
        #[arg(long)]
        force: bool,
    },
    /// Administer accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Serve the benchmark anchors (`/bare`, `/leptos`) for `./x bench`.
    #[command(hide = true)]
    BenchAnchors {
        #[arg(long, default_value = "127.0.0.1:3001")]
        addr: std::net::SocketAddr,
    },
    /// Time hero experiment assignment per call and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchAssign {
        /// Distinct visitor ids each timed run goes through.
        #[arg(long, default_value_t = 2_000_000)]
        n: usize,
    },
    /// Time the leaderboard and ledger writes at scale on DATABASE_URL (a fresh database)
    /// and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchLoyalty {
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        #[arg(long, default_value_t = 8)]
        writers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Seed at least ORDER_LINES order lines on DATABASE_URL (a fresh database), time
    /// recommendations and applying one order, and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchRecs {
        #[arg(long, default_value_t = 1_000_000)]
        order_lines: u64,
        #[arg(long, default_value_t = 2000)]
        queries: usize,
    },
    /// Time evaluating a flag with 10 rules over N visitor ids and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchFlags {
        #[arg(long, default_value_t = 1_000_000)]
        n: usize,
    },
    /// Replace the bench's own flags on DATABASE_URL by COUNT flags of 10 rules, for `./x bench`.
    #[command(hide = true)]
    BenchFlagsFixture {
        #[arg(long, default_value_t = 20)]
        count: usize,
    },
    /// Write EVENTS synthetic events over 90 days to DATABASE_URL (a fresh database), fold
    /// them into the analytics rollups, time the dashboard and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchAnalytics {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Time repricing SKUS products after one competitor batch each round, through the real
    /// HTTP route on its own fresh SQLite database, and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchRepricing {
        #[arg(long, default_value_t = 10_000)]
        skus: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Give the first in-stock product without reviews COUNT approved reviews on
    /// DATABASE_URL (the running bench app's database) and print JSON, for `./x bench`.
    #[command(hide = true)]
    BenchReviewsFixture {
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// Run SHOPPERS simulated shoppers (browse, cart, checkout) against TARGET for SECONDS,
    /// check the stock on DATABASE_URL afterwards and print JSON, for `bench/scaleout.sh`.
    #[command(hide = true)]
    BenchShoppers {
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 200)]
        shoppers: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// How many app servers are behind TARGET (a label in the JSON).
        #[arg(long, default_value_t = 1)]
        servers: usize,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account (or promote an existing one) and print a one-time password.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    telemetry::init_subscriber(telemetry::get_subscriber("info", std::io::stderr));
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = app::db::Db::connect(&settings.database_url, 2).await?;
            db.migrate().await?;
            eprintln!("migrations applied");
        }
        Command::Seed { orders } => {
            let db = app::db::Db::connect(&settings.database_url, 4).await?;
            db.migrate().await?;
            seed::seed_demo(&db, orders, true).await?;
        }
        Command::Backup { to } => {
            let summary = server::backup::backup(&settings.database_url, &to).await?;
            println!("backup written: {summary}");
        }
        Command::Restore { from, force } => {
            let summary = server::backup::restore(&settings.database_url, &from, force).await?;
            println!("restored: {summary}");
        }
        Command::Admin { command: AdminCommand::Create { email } } => {
            let db = app::db::Db::connect(&settings.database_url, 2).await?;
            db.migrate().await?;
            let email = app::accounts::domain::Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = app::accounts::ssr::create_admin(&db, &email).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("admin {} created; one-time password: {password}", email.as_str());
        }
        Command::BenchAnchors { addr } => server::bench_anchors::run(addr).await?,
        Command::BenchAssign { n } => server::bench_assign::run(n)?,
        Command::BenchLoyalty { members, writers, seconds } => {
            server::bench_loyalty::run(&settings.database_url, members, writers, seconds).await?
        }
        Command::BenchRecs { order_lines, queries } => {
            server::bench_recs::run(&settings.database_url, order_lines, queries).await?
        }
        Command::BenchFlags { n } => server::bench_flags::run(n)?,
        Command::BenchFlagsFixture { count } => server::bench_flags::fixture(&settings.database_url, count).await?,
        Command::BenchAnalytics { events } => server::bench_analytics::run(&settings.database_url, events).await?,
        Command::BenchRepricing { skus, rounds } => server::bench_repricing::run(skus, rounds).await?,
        Command::BenchShoppers { target, shoppers, seconds, servers } => {
            server::bench_shoppers::run(&settings.database_url, &target, shoppers, seconds, servers).await?
        }
        Command::BenchReviewsFixture { count } => server::bench_reviews::run(&settings.database_url, count).await?,
    }
    Ok(())
}
