//! `autolearn tenant ...`: tenants, their keys and their limits.

use serde_json::json;

use super::{Failure, TenantCommand, open_store};
use crate::config::Paths;

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
        TenantCommand::SetLimits { name, pairs } => {
            let store = open_store(paths).await?;
            let not_found = |e: crate::store::StoreError| match e {
                crate::store::StoreError::NoTenant(_) => Failure::usage("not_found", e.to_string()),
                e => Failure::failed("store", e.to_string()),
            };
            if store
                .tenant_for_name(&name)
                .await
                .map_err(not_found)?
                .is_none()
            {
                return Err(Failure::usage(
                    "not_found",
                    format!("no tenant named {name:?}"),
                ));
            }
            let mut overrides = store.tenant_overrides(&name).await.map_err(not_found)?;
            for pair in &pairs {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| Failure::usage("usage", format!("{pair:?} is not KEY=VALUE")))?;
                overrides
                    .set(k.trim(), v.trim())
                    .map_err(|m| Failure::usage("usage", m))?;
            }
            if !pairs.is_empty() {
                store
                    .set_tenant_overrides(&name, &overrides)
                    .await
                    .map_err(not_found)?;
            }
            let limits = crate::limits::Limits::default().with(&overrides);
            println!(
                "{}",
                json!({"tenant": name, "overrides": overrides, "limits": limits})
            );
            Ok(())
        }
    }
}

/// `tenant set-quota NAME [KEY=VALUE ...]`.
async fn set_quota(paths: &Paths, name: &str, pairs: &[String]) -> Result<(), Failure> {
    let store = open_store(paths).await?;
    let failed = |e: crate::store::StoreError| match e {
        crate::store::StoreError::NoTenant(_) => Failure::usage("not_found", e.to_string()),
        e => Failure::failed("store", e.to_string()),
    };
    if store.tenant_for_name(name).await.map_err(failed)?.is_none() {
        return Err(Failure::usage(
            "not_found",
            format!("no tenant named {name:?}"),
        ));
    }
    let mut quotas = store.tenant_quotas(name).await.map_err(failed)?;
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Failure::usage("usage", format!("{pair:?} is not KEY=VALUE")))?;
        quotas
            .set(k.trim(), v.trim())
            .map_err(|m| Failure::usage("usage", m))?;
    }
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
