//! [`ObjectStore`] over S3 with conditional writes.

use std::future::Future;

use aws_sdk_s3 as s3;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::S3Location;
use crate::aws::{AwsCloud, AwsOptions};
use crate::exec::objects::ObjectStore;
use crate::plan::model::Location;

/// The run state in one S3 bucket and prefix.
///
/// The journal and the lock are synchronous; the store runs its SDK calls
/// on a runtime of its own, so it can be called from any thread, inside an
/// async task or not.
pub struct S3Objects {
    loc: S3Location,
    client: s3::Client,
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.loc.url(""))
    }
}

impl Drop for S3Objects {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// What an S3 call's failure means to the run state.
enum Failure {
    /// 412 (or 409 for a concurrent conditional write): the condition lost.
    Precondition,
    /// 404: no such key.
    Missing,
    /// Anything else.
    Other(String),
}

fn classify<E>(op: &str, err: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = match &err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    };
    let code = err.code().unwrap_or_default().to_owned();
    match (code.as_str(), status) {
        ("PreconditionFailed" | "ConditionalRequestConflict", _) | (_, Some(412 | 409)) => {
            Failure::Precondition
        }
        ("NoSuchKey" | "NotFound", _) | (_, Some(404)) if code != "NoSuchBucket" => {
            Failure::Missing
        }
        _ => Failure::Other(format!("{op} failed: {}", DisplayErrorContext(&err))),
    }
}

impl S3Objects {
    /// Connects to the backend with the credentials `options` give for its
    /// account, checking first that they are of that account.
    pub fn connect(loc: S3Location, options: AwsOptions) -> Result<Self, String> {
        let scope = Location {
            account: loc.account.clone(),
            region: loc.region.clone(),
        };
        let (rt, client) = super::start_client(&loc.url(""), async move {
            AwsCloud::new(options).s3_client(&scope).await
        })?;
        Ok(Self {
            loc,
            client,
            rt: Some(rt),
        })
    }

    /// The backend's location.
    pub fn location(&self) -> &S3Location {
        &self.loc
    }

    /// The SDK client (for `state init`).
    pub fn client(&self) -> &s3::Client {
        &self.client
    }

    /// Runs `fut` on the store's runtime and waits for it.
    pub fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let rt = self.rt.as_ref().ok_or("the run-state runtime is gone")?;
        futures::executor::block_on(rt.spawn(fut)).map_err(|e| e.to_string())
    }
}

impl ObjectStore for S3Objects {
    fn url(&self, key: &str) -> String {
        self.loc.url(key)
    }

    fn put_new(&self, key: &str, body: &[u8]) -> Result<bool, String> {
        let req = self
            .client
            .put_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.object_key(key))
            .if_none_match("*")
            .content_type("application/json")
            .body(body.to_vec().into());
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) => match classify("PutObject", e) {
                Failure::Precondition => Ok(false),
                Failure::Missing => Err(format!("PutObject {}: not found", self.url(key))),
                Failure::Other(m) => Err(m),
            },
        }
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, String> {
        let req = self
            .client
            .get_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.object_key(key));
        self.run(async move {
            match req.send().await {
                Ok(out) => {
                    let etag = out.e_tag().unwrap_or_default().to_owned();
                    let body = out
                        .body
                        .collect()
                        .await
                        .map_err(|e| format!("GetObject failed reading the body: {e}"))?;
                    Ok(Some((body.into_bytes().to_vec(), etag)))
                }
                Err(e) => match classify("GetObject", e) {
                    Failure::Missing => Ok(None),
                    Failure::Precondition => Err("GetObject failed: precondition".to_owned()),
                    Failure::Other(m) => Err(m),
                },
            }
        })?
    }

    fn put_if_match(&self, key: &str, body: &[u8], etag: &str) -> Result<bool, String> {
        let req = self
            .client
            .put_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.object_key(key))
            .if_match(etag)
            .content_type("application/json")
            .body(body.to_vec().into());
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) => match classify("PutObject", e) {
                Failure::Precondition | Failure::Missing => Ok(false),
                Failure::Other(m) => Err(m),
            },
        }
    }

    fn delete_if_match(&self, key: &str, etag: &str) -> Result<bool, String> {
        let req = self
            .client
            .delete_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.object_key(key))
            .if_match(etag);
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) => match classify("DeleteObject", e) {
                Failure::Precondition | Failure::Missing => Ok(false),
                Failure::Other(m) => Err(m),
            },
        }
    }

    fn put(&self, key: &str, body: &[u8]) -> Result<(), String> {
        let req = self
            .client
            .put_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.object_key(key))
            .body(body.to_vec().into());
        self.run(req.send())?
            .map(|_| ())
            .map_err(|e| format!("PutObject failed: {}", DisplayErrorContext(&e)))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        let full = self.loc.object_key(prefix);
        let strip = self.loc.object_key("");
        let client = self.client.clone();
        let bucket = self.loc.bucket.clone();
        self.run(async move {
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                let out = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&full)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(|e| format!("ListObjectsV2 failed: {}", DisplayErrorContext(&e)))?;
                for o in out.contents() {
                    if let Some(k) = o.key().and_then(|k| k.strip_prefix(&strip)) {
                        keys.push(k.to_owned());
                    }
                }
                match out.next_continuation_token() {
                    Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_owned()),
                    _ => break,
                }
            }
            keys.sort();
            Ok(keys)
        })?
    }
}
