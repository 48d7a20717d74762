//! Run events and the sinks they fan out to (the JSONL writer, the progress display,
//! anything a caller adds). The runner's single collector loop calls every sink in
//! order for each event, so sinks need no locking.

use std::time::Duration;

use anesbench_core::SampleRecord;

use crate::error::RunError;
use crate::retry::RetryNotice;
use crate::rundir::SampleAppender;

#[derive(Debug)]
pub enum RunEvent<'a> {
    /// Work is about to start: `total` (item, sample) pairs, `done` of them already finished.
    Start {
        total: usize,
        done: usize,
        correct_before: usize,
    },
    /// A request will be retried after `notice.wait`.
    Retry {
        key: &'a str,
        notice: &'a RetryNotice,
    },
    /// A sample finished (successfully or with its retries spent).
    Sample(&'a SampleRecord),
    Warning(&'a str),
    Finish {
        elapsed: Duration,
    },
}

pub trait Sink: Send {
    fn event(&mut self, ev: &RunEvent<'_>) -> Result<(), RunError>;
}

/// Appends every finished sample to `samples.jsonl`.
pub struct JsonlSink(pub SampleAppender);

impl Sink for JsonlSink {
    fn event(&mut self, ev: &RunEvent<'_>) -> Result<(), RunError> {
        if let RunEvent::Sample(r) = ev {
            self.0.append(r)?;
        }
        Ok(())
    }
}
