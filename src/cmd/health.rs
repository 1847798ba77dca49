//! `maestro health`: probe a health endpoint, for container HEALTHCHECKs and exec probes in
//! images that carry no curl.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

/// Options of `maestro health`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro health                                            # the xApp on 127.0.0.1:8080\n  \
    maestro health --url http://127.0.0.1:9102/ric/v1/health/alive   # the rApp\n  \
    MAESTRO_HEALTH_URL=http://127.0.0.1:8080/ric/v1/health/ready maestro health")]
pub struct HealthArgs {
    /// URL to GET; exit 0 on a 2xx answer, 1 otherwise.
    #[arg(
        long,
        env = "MAESTRO_HEALTH_URL",
        default_value = "http://127.0.0.1:8080/ric/v1/health/alive"
    )]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
}

/// Probes once.
pub async fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let timeout = super::rapp::seconds("timeout", args.timeout)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(timeout))
        .build()
        .context("HTTP client")?;
    match client.get(&args.url).send().await {
        Ok(r) if r.status().is_success() => {
            println!("{} {}", args.url, r.status());
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            eprintln!("{} {}", args.url, r.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("{}: {e}", args.url);
            Ok(ExitCode::FAILURE)
        }
    }
}
