//! Client credentials shared by `maestro rapp` and `maestro a1`: a bearer token and TLS files
//! for an xApp configured with `security` (see config/xapp.json and the README).

use std::path::PathBuf;

use clap::Args;
use maestro_rapp::auth::ClientAuth;

/// How to authenticate to the xApp.
#[derive(Debug, Clone, Args)]
pub struct ClientAuthArgs {
    /// Bearer token for A1 and the KPI stream (the xApp's `security.tokens`).
    #[arg(long, env = "MAESTRO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA to trust for the xApp's certificate (for https:// URLs).
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ClientAuthArgs {
    /// The credentials these options describe.
    pub fn to_auth(&self) -> ClientAuth {
        ClientAuth {
            token: self.token.clone(),
            ca: self.tls_ca.clone(),
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
        }
    }
}
