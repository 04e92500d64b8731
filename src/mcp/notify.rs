//! Change events to MCP clients: `subscriptions/listen` streams for
//! 2026-07-28 clients, and per-session notifications for legacy sessions.
//! Only the tenant's own events ever reach a client.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rmcp::service::{Peer, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer};
use tokio::sync::broadcast::Receiver;

use super::resources;
use crate::app::{Event, TenantEvent};

/// What a session hears of an event: nothing, or that `tenant`'s tool list
/// changed (and, when known, which skill's resources).
fn list_change(ev: &TenantEvent, tenant: &str) -> Option<Option<String>> {
    match &*ev.event {
        Event::ListChanged { name } if ev.concerns(tenant) => Some(name.clone()),
        _ => None,
    }
}

/// Stream the tenant's skill changes to a 2026-07-28 listener until it
/// goes away.
pub(super) async fn listen(
    mut events: Receiver<TenantEvent>,
    tenant: String,
    context: SubscriptionContext,
) -> Result<(), McpError> {
    let accepted = context.accepted().clone();
    loop {
        let event = tokio::select! {
            () = context.cancelled() => return Ok(()),
            event = events.recv() => event,
        };
        let name = match event {
            Ok(ev) => match list_change(&ev, &tenant) {
                Some(name) => name,
                None => continue,
            },
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
        };
        let sink = context.sink();
        // A failed send means the listener is gone; end quietly.
        if accepted.tools_list_changed == Some(true)
            && sink.notify_tool_list_changed().await.is_err()
        {
            return Ok(());
        }
        if accepted.resources_list_changed == Some(true)
            && sink.notify_resource_list_changed().await.is_err()
        {
            return Ok(());
        }
        let wanted = accepted
            .resource_subscriptions
            .as_deref()
            .unwrap_or_default();
        for uri in name.iter().flat_map(|n| resources::uris(n)) {
            if wanted.contains(&uri) && sink.notify_resource_updated(uri).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// Tell a legacy session whenever its tenant's skills change (and
/// about the resources it subscribed to); stop when it is gone.
pub(super) fn follow(
    mut events: Receiver<TenantEvent>,
    tenant: String,
    peer: Peer<RoleServer>,
    subscriptions: Arc<Mutex<HashSet<String>>>,
) {
    // The session is gone when a send fails.
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ev) => {
                    let Some(name) = list_change(&ev, &tenant) else {
                        continue;
                    };
                    if peer.notify_tool_list_changed().await.is_err()
                        || peer.notify_resource_list_changed().await.is_err()
                    {
                        break;
                    }
                    let subscribed: Vec<String> = {
                        let subs = subscriptions.lock().unwrap_or_else(|p| p.into_inner());
                        name.as_deref()
                            .map(resources::uris)
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|u| subs.contains(u))
                            .collect()
                    };
                    for uri in subscribed {
                        let _ = peer
                            .notify_resource_updated(
                                rmcp::model::ResourceUpdatedNotificationParam::new(uri),
                            )
                            .await;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if peer.notify_tool_list_changed().await.is_err() {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
