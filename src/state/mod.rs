//! Run-state backends: where run journals and run locks live.
//!
//! - `local`: `.restoreplan/runs/` on this machine (the default).
//! - `s3`: a bucket and prefix in one account and Region, shared by every
//!   machine with access. Journal records and lock holders are objects
//!   written with S3's conditional writes (`If-None-Match: *` to create,
//!   `If-Match` to replace or delete), see [`crate::exec::objects`].
//!
//! - `dynamodb`: one table in one account and Region; one item per journal
//!   record and per lock holder, written with conditional `PutItem`
//!   (`attribute_not_exists`) and version checks, see [`dynamodb`].
//!
//! The client acts with the credentials the command has for the backend's
//! account, after the same identity check as every live call.
//!
//! Which backend a command uses: `--state URL` (before or after the
//! subcommand), else `RESTOREPLAN_STATE`, else the plan's `state:` block
//! (when the command reads a plan), else `local`.

pub mod dynamodb;
pub mod init;
#[cfg(feature = "s3")]
pub mod s3;

use std::path::Path;
use std::sync::Arc;

use crate::aws::AwsOptions;
use crate::exec::journal::RunStore;

pub use crate::plan::state::*;

/// Opens a backend: the local runs directory, or a connection to the bucket
/// or table with the credentials `aws` gives for its account (refused when
/// they are of another account).
pub fn open(backend: &StateBackend, runs_dir: &Path, aws: AwsOptions) -> Result<RunStore, String> {
    Ok(match backend {
        StateBackend::Local => RunStore::Local(runs_dir.to_path_buf()),
        #[cfg(feature = "s3")]
        StateBackend::S3(l) => RunStore::Objects(Arc::new(s3::S3Objects::connect(l.clone(), aws)?)),
        #[cfg(not(feature = "s3"))]
        StateBackend::S3(l) => return Err(no_s3(l)),
        StateBackend::DynamoDb(t) => {
            RunStore::Objects(Arc::new(dynamodb::DynamoObjects::connect(t.clone(), aws)?))
        }
    })
}

/// Starts a backend's own one-thread runtime and, on it, the client that
/// `connect` makes (after its identity check). On failure the runtime is
/// shut down in the background: dropping a runtime may block, which an
/// async caller forbids. `url` names the backend in the error.
pub(crate) fn start_client<C, F>(
    url: &str,
    connect: F,
) -> Result<(tokio::runtime::Runtime, C), String>
where
    C: Send + 'static,
    F: std::future::Future<Output = crate::cloud::CloudResult<C>> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("restoreplan-state")
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start the run-state runtime: {e}"))?;
    let failed = |rt: tokio::runtime::Runtime, e: String| {
        rt.shutdown_background();
        Err(format!("run state {url}: {e}"))
    };
    match futures::executor::block_on(rt.spawn(connect)) {
        Ok(Ok(c)) => Ok((rt, c)),
        Ok(Err(e)) => failed(rt, e.to_string()),
        Err(e) => failed(rt, e.to_string()),
    }
}
