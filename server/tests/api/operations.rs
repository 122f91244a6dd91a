//! The binary as an operator runs it: graceful shutdown on SIGTERM.

use crate::helpers::test_database;
use crate::helpers::Backend;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_exits_cleanly() {
    let database = test_database(Backend::Sqlite).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("MERCATO_ADDR", "127.0.0.1:0")
        .env("MERCATO_INVENTORY_TOKEN", "test")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start mercato");
    let stderr = child.stderr.take().unwrap();
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.split("listening on ").nth(1) {
                let _ = address_tx.send(address.trim().to_string());
            }
        }
    });
    let address = address_rx.recv_timeout(Duration::from_secs(60)).expect("server announced its address");
    let health = reqwest::get(format!("{address}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    assert!(reqwest::get(format!("{address}/healthz")).await.is_err(), "no longer listening");
}
