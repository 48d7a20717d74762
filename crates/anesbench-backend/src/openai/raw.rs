//! A JSON POST to any path of the backend's servers, for clients that speak another API
//! on the same kind of server (the reward-model clients in [`crate::reward`]): the same
//! endpoint pool, timeouts, body limits and secret masking as generation.

use super::pool::Outcome;
use super::OpenAiBackend;
use crate::types::BackendError;

impl OpenAiBackend {
    /// POST `body` to `path` on the least-loaded live endpoint and parse the reply with
    /// `parse`; returns the parsed value and the endpoint (redacted) that answered. One
    /// attempt, as for generation; the caller retries on [`BackendError::retryable`].
    pub async fn post_json<T>(
        &self,
        path: &str,
        body: &serde_json::Value,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<(T, String), BackendError> {
        let (bytes, ep, url) = self.post(path, body).await?;
        match parse(&bytes) {
            Ok(v) => {
                self.pool.record(ep, Outcome::Ok);
                Ok((v, ep.shown.clone()))
            }
            Err(message) => Err(self.bad_body(ep, url, message)),
        }
    }
}
