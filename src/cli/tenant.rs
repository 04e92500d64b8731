//! `autolearn tenant ...` and `autolearn audit`: tenants, their keys,
//! limits and quotas, and the trail of every change (all through
//! [`Admin`], which records each one).

use serde_json::json;

use super::{AuditArgs, Failure, KeyCommand, TenantCommand, open_store};
use crate::app::{Admin, AdminError};
use crate::config::Paths;
use crate::store::{KeyInfo, NewKey};

/// Run one `tenant` subcommand.
pub(super) async fn run(paths: &Paths, cmd: TenantCommand) -> Result<(), Failure> {
    let admin = admin(paths).await?;
    match cmd {
        TenantCommand::Create {
            name,
            label,
            expires,
        } => {
            let key = admin
                .create_tenant(&name, &label, expires)
                .await
                .map_err(failed)?;
            print_new_key(&name, &key, "created tenant");
            Ok(())
        }
        TenantCommand::List { json } => list(&admin, json).await,
        TenantCommand::Key(KeyCommand::Add {
            name,
            label,
            expires,
        }) => {
            let key = admin
                .add_key(&name, &label, expires)
                .await
                .map_err(failed)?;
            print_new_key(&name, &key, "added key to");
            Ok(())
        }
        TenantCommand::Key(KeyCommand::Revoke { name, key_id }) => {
            let info = admin.revoke_key(&name, &key_id).await.map_err(failed)?;
            println!("{}", json!({"tenant": name, "revoked": info}));
            Ok(())
        }
        TenantCommand::Remove { name } => {
            let removed = admin.remove_tenant(&name).await.map_err(failed)?;
            println!("{}", json!({"tenant": name, "removed": removed}));
            Ok(())
        }
        TenantCommand::SetQuota { name, pairs } => {
            let quotas = admin
                .set_quotas(&name, |q| apply(&pairs, |k, v| q.set(k, v)))
                .await
                .map_err(failed)?;
            let store = open_store(paths).await?;
            let used: serde_json::Map<String, serde_json::Value> = store
                .quota_usage(&name)
                .await
                .map_err(|e| failed(e.into()))?
                .into_iter()
                .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
                .collect();
            println!(
                "{}",
                json!({"tenant": name, "quotas": quotas, "used": used})
            );
            Ok(())
        }
        TenantCommand::SetLimits { name, pairs } => {
            let overrides = admin
                .set_limits(&name, |o| apply(&pairs, |k, v| o.set(k, v)))
                .await
                .map_err(failed)?;
            let limits = crate::limits::Limits::default().with(&overrides);
            println!(
                "{}",
                json!({"tenant": name, "overrides": overrides, "limits": limits})
            );
            Ok(())
        }
    }
}

/// `autolearn audit [--tenant T] [--limit N] [--json]`.
pub(super) async fn audit(paths: &Paths, args: &AuditArgs) -> Result<(), Failure> {
    let admin = admin(paths).await?;
    let entries = admin
        .audit(args.tenant.as_deref(), args.limit)
        .await
        .map_err(failed)?;
    for e in &entries {
        if args.json {
            println!("{}", json!(e));
        } else {
            let mut detail = e.detail.clone();
            let actor = detail
                .as_object_mut()
                .and_then(|d| d.remove("actor"))
                .and_then(|a| a.as_str().map(str::to_owned))
                .unwrap_or_else(|| "-".into());
            println!(
                "{:>6}  {}  {:<16} {:<16} {:<14} {}",
                e.seq,
                time(Some(e.created_ms)),
                actor,
                e.tenant,
                if e.kind == "reset" {
                    "reset"
                } else {
                    &e.subject
                },
                detail
            );
        }
    }
    if !args.json && entries.is_empty() {
        eprintln!("autolearn: the audit trail is empty");
    }
    Ok(())
}

async fn list(admin: &Admin, as_json: bool) -> Result<(), Failure> {
    let tenants = admin.tenants().await.map_err(failed)?;
    if as_json {
        println!("{}", json!({"tenants": tenants}));
        return Ok(());
    }
    for t in &tenants {
        println!("{}  (created {})", t.name, t.created_at);
        if t.keys.is_empty() {
            println!("    no keys");
        }
        for k in &t.keys {
            println!("    {}", key_line(k));
        }
    }
    if tenants.is_empty() {
        eprintln!("autolearn: no tenants (a loopback server then serves everyone as `local`)");
    }
    Ok(())
}

fn key_line(k: &KeyInfo) -> String {
    let expires = match k.expires_ms {
        Some(at) if at <= crate::store::now_ms() => format!("expired {}", time(Some(at))),
        Some(at) => format!("expires {}", time(Some(at))),
        None => "never expires".into(),
    };
    format!(
        "{}  {:<20} created {}  last used {}  {}",
        k.id,
        if k.label.is_empty() { "-" } else { &k.label },
        time(Some(k.created_ms)),
        time(k.last_used_ms),
        expires
    )
}

/// A time as RFC 3339 to the second, or `never`.
fn time(ms: Option<i64>) -> String {
    match ms.and_then(|ms| u64::try_from(ms).ok()) {
        Some(ms) => humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
        )
        .to_string(),
        None => "never".into(),
    }
}

fn print_new_key(tenant: &str, key: &NewKey, what: &str) {
    println!("{}", key.key);
    eprintln!(
        "autolearn: {what} {tenant:?} (key id {}); this key is shown once, keep it secret",
        key.id
    );
}

async fn admin(paths: &Paths) -> Result<Admin, Failure> {
    let store = open_store(paths).await?;
    let user = std::env::var("USER").unwrap_or_default();
    let actor = if user.is_empty() {
        "cli".to_owned()
    } else {
        format!("cli:{user}")
    };
    Ok(Admin::new(store, actor))
}

/// Apply `KEY=VALUE` pairs with `set`.
fn apply(
    pairs: &[String],
    mut set: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), String> {
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not KEY=VALUE"))?;
        set(k.trim(), v.trim())?;
    }
    Ok(())
}

fn failed(e: AdminError) -> Failure {
    Failure::from(e)
}
