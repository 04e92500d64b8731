//! `autolearn tenant ...`: tenants, their keys and their limits.

use serde_json::json;

use super::{Failure, TenantCommand, open_store};
use crate::config::Paths;
use crate::store::{SkillStore, StoreError};

/// Run one `tenant` subcommand.
pub(super) async fn run(paths: &Paths, cmd: TenantCommand) -> Result<(), Failure> {
    match cmd {
        TenantCommand::Create { name } => {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || name.is_empty()
            {
                return Err(Failure::usage(
                    "usage",
                    "tenant names use letters, digits, '_' and '-'",
                ));
            }
            let store = open_store(paths).await?;
            match store.create_tenant(&name).await {
                Ok(key) => {
                    println!("{key}");
                    eprintln!(
                        "autolearn: created tenant {name:?}; this key is shown once, keep it secret"
                    );
                    Ok(())
                }
                Err(crate::store::StoreError::Conflict(m)) => Err(Failure::usage("conflict", m)),
                Err(e) => Err(Failure::failed("store", e.to_string())),
            }
        }
        TenantCommand::SetQuota { name, pairs } => set_quota(paths, &name, &pairs).await,
        TenantCommand::SetLimits { name, pairs } => set_limits(paths, &name, &pairs).await,
    }
}

/// `tenant set-limits NAME [KEY=VALUE ...]`.
async fn set_limits(paths: &Paths, name: &str, pairs: &[String]) -> Result<(), Failure> {
    let store = existing_tenant(paths, name).await?;
    let mut overrides = store.tenant_overrides(name).await.map_err(failed)?;
    apply(pairs, |k, v| overrides.set(k, v))?;
    if !pairs.is_empty() {
        store
            .set_tenant_overrides(name, &overrides)
            .await
            .map_err(failed)?;
    }
    let limits = crate::limits::Limits::default().with(&overrides);
    println!(
        "{}",
        json!({"tenant": name, "overrides": overrides, "limits": limits})
    );
    Ok(())
}

/// `tenant set-quota NAME [KEY=VALUE ...]`.
async fn set_quota(paths: &Paths, name: &str, pairs: &[String]) -> Result<(), Failure> {
    let store = existing_tenant(paths, name).await?;
    let mut quotas = store.tenant_quotas(name).await.map_err(failed)?;
    apply(pairs, |k, v| quotas.set(k, v))?;
    if !pairs.is_empty() {
        store
            .set_tenant_quotas(name, &quotas)
            .await
            .map_err(failed)?;
    }
    let used: serde_json::Map<String, serde_json::Value> = store
        .quota_usage(name)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
        .collect();
    println!(
        "{}",
        json!({"tenant": name, "quotas": quotas, "used": used})
    );
    Ok(())
}

/// The store, once `name` is known to be a tenant.
async fn existing_tenant(paths: &Paths, name: &str) -> Result<SkillStore, Failure> {
    let store = open_store(paths).await?;
    if store.tenant_for_name(name).await.map_err(failed)?.is_none() {
        return Err(Failure::usage(
            "not_found",
            format!("no tenant named {name:?}"),
        ));
    }
    Ok(store)
}

/// Apply `KEY=VALUE` pairs with `set`.
fn apply(
    pairs: &[String],
    mut set: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), Failure> {
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Failure::usage("usage", format!("{pair:?} is not KEY=VALUE")))?;
        set(k.trim(), v.trim()).map_err(|m| Failure::usage("usage", m))?;
    }
    Ok(())
}

fn failed(e: StoreError) -> Failure {
    match e {
        StoreError::NoTenant(_) => Failure::usage("not_found", e.to_string()),
        e => Failure::failed("store", e.to_string()),
    }
}
