//! `maestro a1`: a small A1 client for any peer — an A1-P v2 termination (ours, the O-RAN SC
//! A1 simulator, a near-RT RIC) or a Non-RT RIC A1 Policy Management Service — and the A1
//! peer options (`--a1-adapter`, `--a1-ric-id`, `--a1-service-id`) `maestro rapp` shares.
//!
//! Precedence of every A1 setting, highest first: command-line flag, environment variable
//! (`MAESTRO_A1_URL`, `MAESTRO_A1_ADAPTER`, `MAESTRO_A1_RIC_ID`, `MAESTRO_A1_SERVICE_ID`),
//! the `"a1"` block of the config file (`--config`, or the rApp's `--scenario`), the default
//! (`a1p_v2` at http://127.0.0.1:8080).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use maestro_api::a1::SLICE_SLA_TARGET_TYPE;
use maestro_rapp::a1::{A1AdapterKind, A1PeerConfig, PmsClient, PutResult};

/// Which A1 peer, and on whose behalf (shared by `maestro a1` and `maestro rapp`).
#[derive(Debug, Clone, Args)]
pub struct A1PeerArgs {
    /// Kind of A1 peer: a1p_v2 (an A1-P v2 termination: our xApp, the O-RAN SC A1 simulator)
    /// or nonrtric_pms (an O-RAN SC Non-RT RIC A1 Policy Management Service,
    /// /a1-policy-management/v1) [default: a1p_v2].
    #[arg(
        long = "a1-adapter",
        env = "MAESTRO_A1_ADAPTER",
        value_name = "ADAPTER",
        global = true
    )]
    pub adapter: Option<A1AdapterKind>,
    /// nonrtric_pms: the near-RT RIC (as the PMS names it) that receives the policies.
    #[arg(
        long = "a1-ric-id",
        env = "MAESTRO_A1_RIC_ID",
        value_name = "ID",
        global = true
    )]
    pub ric_id: Option<String>,
    /// nonrtric_pms: the service owning the policies [default: maestro-rapp].
    #[arg(
        long = "a1-service-id",
        env = "MAESTRO_A1_SERVICE_ID",
        value_name = "ID",
        global = true
    )]
    pub service_id: Option<String>,
}

impl A1PeerArgs {
    /// The A1 peer configuration: these flags (and `url`, the URL flag) over `file` (the
    /// config file's `"a1"` block) over the defaults.
    pub fn resolve(&self, url: Option<&str>, file: Option<&A1PeerConfig>) -> A1PeerConfig {
        let over = A1PeerConfig {
            url: url.map(str::to_owned),
            ric_id: self.ric_id.clone(),
            service_id: self.service_id.clone(),
            ..A1PeerConfig::default()
        };
        file.cloned()
            .unwrap_or_default()
            .overridden_by(self.adapter, &over)
    }
}

/// The `"a1"` block of a JSON config file (e.g. the rApp's scenario).
pub fn a1_block(path: &Path) -> anyhow::Result<Option<A1PeerConfig>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    match value.get("a1") {
        None => Ok(None),
        Some(block) => serde_json::from_value(block.clone())
            .map(Some)
            .with_context(|| format!("{}: the \"a1\" block", path.display())),
    }
}

/// Options of `maestro a1`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  maestro a1 types                                   # our xApp on 127.0.0.1:8080
  maestro a1 --url http://127.0.0.1:8085 list        # e.g. the O-RAN SC A1 simulator
  maestro a1 put maestro-bo-cost -f config/policies/slice1-40mbps.json
  maestro a1 --a1-adapter nonrtric_pms --url http://pms:8081 --a1-ric-id ric1 types
  MAESTRO_A1_URL=http://xapp:8080 maestro a1 status maestro-bo-cost

Settings, highest precedence first: flag, environment (MAESTRO_A1_URL, MAESTRO_A1_ADAPTER,
MAESTRO_A1_RIC_ID, MAESTRO_A1_SERVICE_ID, MAESTRO_A1_CONFIG, MAESTRO_TOKEN), the \"a1\" block
of --config FILE, the defaults.")]
pub struct A1Args {
    /// Base URL of the A1 peer (scheme, host, port) [default: http://127.0.0.1:8080].
    #[arg(long, env = "MAESTRO_A1_URL", global = true)]
    pub url: Option<String>,
    /// Policy type id.
    #[arg(long = "type", default_value = SLICE_SLA_TARGET_TYPE, global = true)]
    pub policy_type: String,
    /// JSON config file whose "a1" block sets adapter, url, ric_id, service_id (e.g. the
    /// rApp's scenario file).
    #[arg(long, value_name = "FILE", env = "MAESTRO_A1_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Which A1 peer.
    #[command(flatten)]
    pub peer: A1PeerArgs,
    /// Credentials for a secured peer.
    #[command(flatten)]
    pub auth: super::auth::ClientAuthArgs,
    #[command(subcommand)]
    pub action: A1Action,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum A1Action {
    /// List the supported policy types (for a PMS: those of --a1-ric-id).
    #[command(after_help = "Examples:
  maestro a1 types
  maestro a1 --url http://127.0.0.1:8085 types
  maestro a1 --a1-adapter nonrtric_pms --url http://pms:8081 --a1-ric-id ric1 types")]
    Types,
    /// List the policy ids of the type.
    #[command(after_help = "Examples:
  maestro a1 list
  maestro a1 --type ORAN_SliceSLATarget_1.0.0 list")]
    List,
    /// Print a policy statement.
    #[command(after_help = "Example:
  maestro a1 get maestro-bo-cost")]
    Get {
        /// Policy id.
        id: String,
    },
    /// Create or replace a policy from a JSON file ("-" for stdin).
    #[command(after_help = "Examples:
  maestro a1 put maestro-bo-cost -f config/policies/slice1-40mbps.json
  cat statement.json | maestro a1 put my-policy -f -
  maestro a1 put p1 -f s.json --notify http://rapp:9000/a1/status   # A1-P v2 peers only")]
    Put {
        /// Policy id.
        id: String,
        /// JSON statement file, or - for stdin.
        #[arg(long, short)]
        file: PathBuf,
        /// URL the termination POSTs status changes to (A1-P v2 peers only).
        #[arg(long)]
        notify: Option<String>,
    },
    /// Delete a policy.
    #[command(after_help = "Example:
  maestro a1 delete maestro-bo-cost")]
    Delete {
        /// Policy id.
        id: String,
    },
    /// Print a policy's enforcement status.
    #[command(after_help = "Example:
  maestro a1 status maestro-bo-cost")]
    Status {
        /// Policy id.
        id: String,
    },
    /// List the near-RT RICs a Non-RT RIC PMS manages, with their state and policy types
    /// (nonrtric_pms only).
    #[command(after_help = "Example:
  maestro a1 --a1-adapter nonrtric_pms --url http://pms:8081 rics")]
    Rics,
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn read_statement(file: &Path) -> anyhow::Result<serde_json::Value> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the statement from stdin")?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}

/// Runs one A1 action.
pub async fn run(args: A1Args) -> anyhow::Result<ExitCode> {
    super::init_logging("warn");
    let file = match &args.config {
        Some(path) => a1_block(path)?,
        None => None,
    };
    let config = args.peer.resolve(args.url.as_deref(), file.as_ref());
    let auth = args.auth.to_auth();
    if let A1Action::Rics = args.action {
        anyhow::ensure!(
            config.adapter == A1AdapterKind::NonrtricPms,
            "`rics` lists the near-RT RICs of a Non-RT RIC PMS: add --a1-adapter nonrtric_pms"
        );
        // Listing RICs needs no RIC id of its own.
        let pms = PmsClient::for_queries(config.url_or_default(), &auth)?;
        print_json(&pms.rics().await?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let client = config.connect(&auth)?;
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
            let statement = read_statement(&file)?;
            match client
                .put_policy(t, &id, &statement, notify.as_deref())
                .await?
            {
                PutResult::Created => println!("created {id}"),
                PutResult::Updated => println!("updated {id}"),
            }
        }
        A1Action::Rics => {}
    }
    Ok(ExitCode::SUCCESS)
}
