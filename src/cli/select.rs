//! `select:` in the commands: the live stages expand selectors against the
//! source accounts before their checks; `simulate` offline expands them
//! from its `--sizes` file.

use crate::check::inventory::{ExpandError, expand_live, expand_with};
use crate::cli::{CompileArgs, Error, Output, Result};
use crate::cloud::CloudRead;
use crate::plan::Loaded;
use crate::plan::select::{Inventory, OVERRIDDEN};
use crate::report::findings;

/// `loaded` with its selectors expanded from `cloud`, the notes about the
/// expansion shown on stderr; or the status to stop with after showing why.
pub fn expand_or_report(
    loaded: Loaded,
    cloud: &dyn CloudRead,
    compile: &CompileArgs,
    out: Output,
) -> Result<Loaded> {
    if loaded.groups.is_empty() {
        return Ok(loaded);
    }
    let source = loaded.source.clone();
    let result = crate::cli::aws::block_on(expand_live(loaded, &compile.options(), cloud))
        .map_err(Error::Message)?;
    shown(result, &source, out)
}

/// `loaded` with its selectors expanded from the table names of a sizes
/// file (in every source account and Region the selectors name).
pub fn expand_from_names<'a>(
    loaded: Loaded,
    names: impl Iterator<Item = &'a String> + Clone,
    compile: &CompileArgs,
    out: Output,
) -> Result<Loaded> {
    if loaded.groups.is_empty() {
        return Ok(loaded);
    }
    let mut inv = Inventory::default();
    for g in &loaded.groups {
        if let (Some(a), Some(r)) = (&g.account, &g.region) {
            inv.listed(a, r);
            for n in names.clone() {
                inv.insert(a, r, n, None);
            }
        }
    }
    let source = loaded.source.clone();
    shown(
        expand_with(loaded, &compile.options(), inv)
            .map_err(|r| ExpandError::Rejected(Box::new(r))),
        &source,
        out,
    )
}

fn shown(
    result: Result<Loaded, ExpandError>,
    source: &crate::plan::SourceFile,
    out: Output,
) -> Result<Loaded> {
    match result {
        Ok(l) => {
            let notes: Vec<_> = l
                .warnings
                .iter()
                .filter(|f| f.code == OVERRIDDEN)
                .cloned()
                .collect();
            if !out.quiet && !notes.is_empty() {
                crate::err!("{}", findings::render_human(&notes, &l.source, out.human()));
            }
            Ok(l)
        }
        Err(ExpandError::Listing(f)) => {
            crate::err!("{}", findings::render_human(&[*f], source, out.human()));
            Err(Error::Failed)
        }
        Err(ExpandError::Rejected(r)) => Err(super::show_rejected(&r, out)),
    }
}

/// For `validate --live`: `loaded` expanded from the account, or the
/// findings against it as a rejected plan (a failed listing included).
pub fn expand_for_validate(
    loaded: Loaded,
    aws: &crate::cli::aws::AwsArgs,
    opts: &crate::plan::CompileOptions,
) -> std::result::Result<Loaded, crate::plan::LoadError> {
    use crate::plan::{LoadError, Rejected};
    if loaded.groups.is_empty() {
        return Ok(loaded);
    }
    let source = loaded.source.clone();
    let cloud = aws.read_only();
    let reject = |findings| {
        LoadError::Rejected(Box::new(Rejected {
            source: source.clone(),
            findings,
        }))
    };
    match crate::cli::aws::block_on(expand_live(loaded, opts, &cloud)) {
        Ok(Ok(l)) => Ok(l),
        Ok(Err(ExpandError::Rejected(r))) => Err(LoadError::Rejected(r)),
        Ok(Err(ExpandError::Listing(f))) => Err(reject(vec![*f])),
        Err(e) => Err(reject(vec![crate::diag::Finding::error(
            crate::check::live::codes::CALL_FAILED,
            format!("failed to start the live checks: {e}"),
        )])),
    }
}
