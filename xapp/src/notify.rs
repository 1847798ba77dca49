//! Policy status notifications: POSTs the new status of a policy to the
//! `notificationDestination` its creator gave (O-RAN A1AP v2, "notify policy status").

use std::time::Duration;

use maestro_api::a1::PolicyStatus;

/// Sends status notifications; cheap to clone.
#[derive(Clone, Debug)]
pub struct StatusNotifier {
    client: reqwest::Client,
}

impl StatusNotifier {
    /// A notifier with a 2 s timeout per notification.
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()?,
        })
    }

    /// POSTs `status` to `destination` in the background; failures are logged, not retried.
    pub fn notify(&self, destination: String, policy_id: String, status: PolicyStatus) {
        let client = self.client.clone();
        tokio::spawn(async move {
            match client.post(&destination).json(&status).send().await {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(%policy_id, %destination, "status notified")
                }
                Ok(r) => {
                    tracing::warn!(%policy_id, %destination, code = %r.status(), "status notification refused")
                }
                Err(e) => {
                    tracing::warn!(%policy_id, %destination, error = %e, "status notification failed")
                }
            }
        });
    }
}
