//! `maestro a1`: a small A1-P v2 client for any termination (ours, the O-RAN SC A1
//! simulator, a Non-RT RIC's policy service).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use maestro_api::a1::SLICE_SLA_TARGET_TYPE;
use maestro_rapp::a1_client::{A1Client, PutResult};

/// Options of `maestro a1`.
#[derive(Debug, Args)]
pub struct A1Args {
    /// Base URL of the A1-P v2 termination.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// Policy type id.
    #[arg(long = "type", default_value = SLICE_SLA_TARGET_TYPE, global = true)]
    pub policy_type: String,
    /// Credentials for a secured xApp.
    #[command(flatten)]
    pub auth: super::auth::ClientAuthArgs,
    #[command(subcommand)]
    pub action: A1Action,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum A1Action {
    /// List the supported policy types.
    Types,
    /// List the policy ids of the type.
    List,
    /// Print a policy statement.
    Get {
        /// Policy id.
        id: String,
    },
    /// Create or replace a policy from a JSON file ("-" for stdin).
    /// Example statement: config/policies/slice1-40mbps.json
    Put {
        /// Policy id.
        id: String,
        /// JSON statement file, or - for stdin.
        #[arg(long, short)]
        file: PathBuf,
        /// URL the termination POSTs status changes to.
        #[arg(long)]
        notify: Option<String>,
    },
    /// Delete a policy.
    Delete {
        /// Policy id.
        id: String,
    },
    /// Print a policy's enforcement status.
    Status {
        /// Policy id.
        id: String,
    },
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs one A1 action.
pub async fn run(args: A1Args) -> anyhow::Result<ExitCode> {
    super::init_logging("warn");
    let client = A1Client::with_auth(&args.url, &args.auth.to_auth())?;
    let t = args.policy_type.as_str();
    match args.action {
        A1Action::Types => print_json(&client.policy_types().await?)?,
        A1Action::List => print_json(&client.policy_ids(t).await?)?,
        A1Action::Get { id } => print_json(&client.get_policy(t, &id).await?)?,
        A1Action::Status { id } => print_json(&client.policy_status(t, &id).await?)?,
        A1Action::Delete { id } => {
            client.delete_policy(t, &id).await?;
            println!("deleted {id}");
        }
        A1Action::Put { id, file, notify } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the statement from stdin")?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let statement: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            match client
                .put_policy(t, &id, &statement, notify.as_deref())
                .await?
            {
                PutResult::Created => println!("created {id}"),
                PutResult::Updated => println!("updated {id}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
