//! [`ObjectStore`] over one DynamoDB table with conditional writes.
//!
//! Each object is one item: partition key `pk` is the object's folder
//! (`runs/RUN/journal`), sort key `sk` its name (`0000000003.json`), `body`
//! its bytes and `version` a random token that plays the ETag's part.
//! Creating is `PutItem` with `attribute_not_exists(pk)`; replacing and
//! deleting are conditional on `version` being the one read. A run's
//! journal is one partition, read with a strongly consistent `Query`;
//! listing every run scans the table (keys only).

use std::collections::HashMap;

use aws_sdk_dynamodb as ddb;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::Blob;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::TableLocation;
use crate::aws::{AwsCloud, AwsOptions};
use crate::exec::objects::ObjectStore;
use crate::plan::model::Location;

/// The run state in one DynamoDB table.
pub struct DynamoObjects {
    loc: TableLocation,
    client: ddb::Client,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for DynamoObjects {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `(pk, sk)` of an object key: its folder and its name.
pub fn split_key(key: &str) -> (String, String) {
    match key.rsplit_once('/') {
        Some((dir, name)) => (dir.to_owned(), name.to_owned()),
        None => (String::new(), key.to_owned()),
    }
}

fn join_key(pk: &str, sk: &str) -> String {
    if pk.is_empty() {
        sk.to_owned()
    } else {
        format!("{pk}/{sk}")
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn token() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

fn is_conditional<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl DynamoObjects {
    /// Connects to the backend with the credentials `options` give for its
    /// account, checking first that they are of that account.
    pub fn connect(loc: TableLocation, options: AwsOptions) -> Result<Self, String> {
        let scope = Location {
            account: loc.account.clone(),
            region: loc.region.clone(),
        };
        let (rt, client) = super::start_client(&loc.url(), async move {
            AwsCloud::new(options).dynamodb_client(&scope).await
        })?;
        Ok(Self {
            loc,
            client,
            rt: Some(rt),
        })
    }

    /// The backend's location.
    pub fn location(&self) -> &TableLocation {
        &self.loc
    }

    /// The SDK client (for `state init`).
    pub fn client(&self) -> &ddb::Client {
        &self.client
    }

    /// Runs `fut` on the store's runtime and waits for it.
    pub fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let rt = self.rt.as_ref().ok_or("the run-state runtime is gone")?;
        futures::executor::block_on(rt.spawn(fut)).map_err(|e| e.to_string())
    }

    fn item(&self, key: &str, body: &[u8], version: &str) -> HashMap<String, AttributeValue> {
        let (pk, sk) = split_key(key);
        HashMap::from([
            ("pk".to_owned(), s(&pk)),
            ("sk".to_owned(), s(&sk)),
            (
                "body".to_owned(),
                AttributeValue::B(Blob::new(body.to_vec())),
            ),
            ("version".to_owned(), s(version)),
        ])
    }
}

impl ObjectStore for DynamoObjects {
    fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.loc.url())
    }

    fn put_new(&self, key: &str, body: &[u8]) -> Result<bool, String> {
        let req = self
            .client
            .put_item()
            .table_name(&self.loc.table)
            .set_item(Some(self.item(key, body, &token())))
            .condition_expression("attribute_not_exists(pk)");
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(format!("PutItem failed: {}", DisplayErrorContext(&e))),
        }
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, String> {
        let (pk, sk) = split_key(key);
        let req = self
            .client
            .get_item()
            .table_name(&self.loc.table)
            .key("pk", s(&pk))
            .key("sk", s(&sk))
            .consistent_read(true);
        let out = self
            .run(req.send())?
            .map_err(|e| format!("GetItem failed: {}", DisplayErrorContext(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let body = match item.get("body") {
            Some(AttributeValue::B(b)) => b.clone().into_inner(),
            _ => return Err(format!("{}: the item has no body", self.url(key))),
        };
        let version = match item.get("version") {
            Some(AttributeValue::S(v)) => v.clone(),
            _ => String::new(),
        };
        Ok(Some((body, version)))
    }

    fn put_if_match(&self, key: &str, body: &[u8], etag: &str) -> Result<bool, String> {
        let req = self
            .client
            .put_item()
            .table_name(&self.loc.table)
            .set_item(Some(self.item(key, body, &token())))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", s(etag));
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(format!("PutItem failed: {}", DisplayErrorContext(&e))),
        }
    }

    fn delete_if_match(&self, key: &str, etag: &str) -> Result<bool, String> {
        let (pk, sk) = split_key(key);
        let req = self
            .client
            .delete_item()
            .table_name(&self.loc.table)
            .key("pk", s(&pk))
            .key("sk", s(&sk))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", s(etag));
        match self.run(req.send())? {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(format!("DeleteItem failed: {}", DisplayErrorContext(&e))),
        }
    }

    fn put(&self, key: &str, body: &[u8]) -> Result<(), String> {
        let req = self
            .client
            .put_item()
            .table_name(&self.loc.table)
            .set_item(Some(self.item(key, body, &token())));
        self.run(req.send())?
            .map(|_| ())
            .map_err(|e| format!("PutItem failed: {}", DisplayErrorContext(&e)))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        let client = self.client.clone();
        let table = self.loc.table.clone();
        let prefix = prefix.to_owned();
        // A folder's own objects (a run's journal) are one partition.
        let folder = prefix
            .strip_suffix('/')
            .filter(|p| p.ends_with("/journal"))
            .map(str::to_owned);
        self.run(async move {
            let mut keys = Vec::new();
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let (items, last) = match &folder {
                    Some(pk) => {
                        let out = client
                            .query()
                            .table_name(&table)
                            .key_condition_expression("pk = :pk")
                            .expression_attribute_values(":pk", s(pk))
                            .projection_expression("pk, sk")
                            .consistent_read(true)
                            .set_exclusive_start_key(start.take())
                            .send()
                            .await
                            .map_err(|e| format!("Query failed: {}", DisplayErrorContext(&e)))?;
                        (out.items.unwrap_or_default(), out.last_evaluated_key)
                    }
                    None => {
                        let out = client
                            .scan()
                            .table_name(&table)
                            .projection_expression("pk, sk")
                            .consistent_read(true)
                            .set_exclusive_start_key(start.take())
                            .send()
                            .await
                            .map_err(|e| format!("Scan failed: {}", DisplayErrorContext(&e)))?;
                        (out.items.unwrap_or_default(), out.last_evaluated_key)
                    }
                };
                for item in items {
                    if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) =
                        (item.get("pk"), item.get("sk"))
                    {
                        let key = join_key(pk, sk);
                        if key.starts_with(&prefix) {
                            keys.push(key);
                        }
                    }
                }
                match last {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => break,
                }
            }
            keys.sort();
            Ok(keys)
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_folder_and_name_and_back() {
        for key in [
            "runs/r-1/journal/0000000003.json",
            "locks/table/111122223333/us-east-1/t.json",
            "x",
        ] {
            let (pk, sk) = split_key(key);
            assert_eq!(join_key(&pk, &sk), key);
        }
        assert_eq!(
            split_key("runs/r-1/journal/0000000003.json"),
            ("runs/r-1/journal".to_owned(), "0000000003.json".to_owned())
        );
    }
}
