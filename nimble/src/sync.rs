//! Rule sync: the destinations of a live become the set of Fanout-owned republish rules.
//!
//! [`plan`] is pure: from the rules Nimble lists, the source Fanout's ingest publishes to and
//! the desired destinations, it says which rules to delete and which destinations need a rule.
//! [`sync`] lists, plans and applies — deletions first, so a destination whose key or address
//! changed never has two rules at once. Ownership is the marker of [`crate::ownership`]:
//!
//! - a rule without the marker is never deleted, whatever it republishes;
//! - an owned rule that matches a desired destination exactly (source, host, port, app, key,
//!   TLS, marker) is kept: after a restart Fanout adopts its leftover rules instead of
//!   duplicating them;
//! - an owned rule for a destination no longer desired, or that differs from it (a new key or
//!   address), or a second copy of one already kept, is deleted; the destination gets a new rule.
//!
//! Nimble does not keep API-made rules across its own restart (the reference's note on the
//! republish API), so a sync after a Nimble restart simply creates them again.

use std::collections::BTreeSet;
use std::fmt;

use crate::Secret;
use crate::client::{NimbleClient, NimbleError};
use crate::model::{AuthSchema, NewRule, Rule, RuleId};
use crate::ownership::{marker, owner_of};

/// Where Fanout's ingest publishes inside Nimble: the rules' `src_app`/`src_stream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The RTMP application.
    pub app: String,
    /// The stream.
    pub stream: String,
}

/// Fanout's id for a destination (e.g. the account id).
pub type DestinationId = String;

/// A destination Nimble should republish the live to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Fanout's id for it; written into the rule's marker.
    pub id: DestinationId,
    /// The ingest host.
    pub host: String,
    /// The ingest port.
    pub port: u16,
    /// The RTMP application at the ingest.
    pub app: String,
    /// The stream key.
    pub stream_key: Secret,
    /// Whether to publish over RTMPS.
    pub tls: bool,
}

impl Destination {
    /// The rule that republishes `source` to this destination, marked as Fanout's.
    pub fn rule(&self, source: &Source) -> NewRule {
        NewRule {
            src_app: source.app.clone(),
            src_stream: source.stream.clone(),
            dest_addr: self.host.clone(),
            dest_port: self.port,
            dest_app: self.app.clone(),
            dest_stream: self.stream_key.clone(),
            dest_app_params: String::new(),
            dest_stream_params: marker(&self.id),
            auth_schema: AuthSchema::None,
            dest_login: String::new(),
            dest_password: Secret::default(),
            keep_src_stream_params: false,
            ssl: self.tls,
        }
    }

    /// Whether `rule` is exactly this destination's rule for `source`.
    fn is_served_by(&self, rule: &Rule, source: &Source) -> bool {
        rule.src_app == source.app
            && rule.src_stream == source.stream
            && rule.dest_addr == self.host
            && rule.dest_port == self.port
            && rule.dest_app == self.app
            && rule.dest_stream == self.stream_key
            && rule.ssl == self.tls
            && rule.dest_stream_params == marker(&self.id)
            && rule.dest_app_params.is_empty()
            && rule.auth_schema == AuthSchema::None
    }
}

/// An owned rule to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The rule.
    pub rule: RuleId,
    /// The destination its marker names.
    pub destination: DestinationId,
}

/// A rule to create for a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creation {
    /// The destination.
    pub destination: DestinationId,
    /// Its rule, marked.
    pub rule: NewRule,
}

/// What a sync must do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Owned rules to delete (gone, changed, or duplicated destinations).
    pub delete: Vec<Removal>,
    /// Rules to create, one per destination that has none.
    pub create: Vec<Creation>,
    /// Destinations already served by an owned rule (kept, or adopted after a restart).
    pub keep: Vec<DestinationId>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.create.is_empty()
    }
}

/// Plans the rules for `desired` (a destination id listed twice counts once, the first wins).
pub fn plan(existing: &[Rule], source: &Source, desired: &[Destination]) -> Plan {
    let mut seen = BTreeSet::new();
    let desired: Vec<&Destination> = desired.iter().filter(|d| seen.insert(d.id.as_str())).collect();
    let mut plan = Plan::default();
    let mut served = BTreeSet::new();
    for rule in existing {
        let Some(owner) = owner_of(rule) else { continue };
        let wanted = desired.iter().find(|d| d.id == owner);
        match wanted {
            Some(destination) if destination.is_served_by(rule, source) && served.insert(owner.clone()) => plan.keep.push(owner),
            _ => plan.delete.push(Removal { rule: rule.id.clone(), destination: owner }),
        }
    }
    plan.create = desired
        .into_iter()
        .filter(|d| !served.contains(&d.id))
        .map(|d| Creation { destination: d.id.clone(), rule: d.rule(source) })
        .collect();
    plan
}

/// The rule ids of every owned rule in `existing`.
pub fn owned(existing: &[Rule]) -> Vec<Removal> {
    existing.iter().filter_map(|rule| owner_of(rule).map(|destination| Removal { rule: rule.id.clone(), destination })).collect()
}

/// A step of a sync that failed (the others were still applied).
#[derive(Debug)]
pub struct StepFailure {
    /// What was being done, e.g. "create the rule of destination acc-1".
    pub step: String,
    /// Why it failed.
    pub error: NimbleError,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not {}: {}", self.step, self.error)
    }
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Destinations a rule was created for.
    pub created: Vec<DestinationId>,
    /// Rules deleted.
    pub deleted: Vec<Removal>,
    /// Destinations already served (kept or adopted).
    pub kept: Vec<DestinationId>,
    /// Steps that failed; the next sync tries them again.
    pub failures: Vec<StepFailure>,
}

impl SyncReport {
    /// Whether every step succeeded.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Lists the rules, plans, and applies the plan. Fails as a whole only when the rules cannot be
/// listed or Nimble refuses the token; any other failed step is reported and the rest applied.
pub async fn sync(client: &NimbleClient, source: &Source, desired: &[Destination]) -> Result<SyncReport, NimbleError> {
    let existing = client.list_rules().await?;
    apply(client, plan(&existing, source, desired)).await
}

/// Deletes every rule Fanout owns (at the end of a live); returns what was deleted.
pub async fn remove_all_owned(client: &NimbleClient) -> Result<SyncReport, NimbleError> {
    let existing = client.list_rules().await?;
    apply(client, Plan { delete: owned(&existing), ..Plan::default() }).await
}

/// Deletes the rules Fanout owns for one destination (the backend's next sync makes it anew:
/// a reconnect).
pub async fn remove_owned_by(client: &NimbleClient, destination: &str) -> Result<SyncReport, NimbleError> {
    let existing = client.list_rules().await?;
    let delete = owned(&existing).into_iter().filter(|removal| removal.destination == destination).collect();
    apply(client, Plan { delete, ..Plan::default() }).await
}

/// Applies a plan: deletions, then creations.
pub async fn apply(client: &NimbleClient, plan: Plan) -> Result<SyncReport, NimbleError> {
    let mut report = SyncReport { kept: plan.keep, ..SyncReport::default() };
    for removal in plan.delete {
        match client.delete_rule(&removal.rule).await {
            Ok(()) => {
                tracing::info!(rule = %removal.rule, destination = %removal.destination, "deleted a Nimble republish rule");
                report.deleted.push(removal);
            }
            Err(error) if error.is_wrong_token() => return Err(error),
            Err(error) => report
                .failures
                .push(StepFailure { step: format!("delete rule {} of destination {}", removal.rule, removal.destination), error }),
        }
    }
    for creation in plan.create {
        match client.create_rule(&creation.rule).await {
            Ok(id) => {
                tracing::info!(rule = ?id, destination = %creation.destination, "created a Nimble republish rule");
                report.created.push(creation.destination);
            }
            Err(error) if error.is_wrong_token() => return Err(error),
            Err(error) => {
                report.failures.push(StepFailure { step: format!("create the rule of destination {}", creation.destination), error })
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source { app: "fanout".into(), stream: "live".into() }
    }

    fn destination(id: &str) -> Destination {
        Destination {
            id: id.into(),
            host: "live.restream.example".into(),
            port: 1935,
            app: "live".into(),
            stream_key: Secret::new(format!("key-{id}")),
            tls: false,
        }
    }

    /// The rule Nimble would list after creating `destination`'s rule under `id`.
    fn listed(id: &str, destination: &Destination) -> Rule {
        let new = destination.rule(&source());
        Rule {
            id: RuleId::new(id),
            src_app: new.src_app,
            src_stream: new.src_stream,
            dest_addr: new.dest_addr,
            dest_port: new.dest_port,
            dest_app: new.dest_app,
            dest_stream: new.dest_stream,
            dest_app_params: new.dest_app_params,
            dest_stream_params: new.dest_stream_params,
            auth_schema: new.auth_schema,
            dest_login: new.dest_login,
            dest_password: new.dest_password,
            keep_src_stream_params: new.keep_src_stream_params,
            ssl: new.ssl,
        }
    }

    fn foreign(id: &str) -> Rule {
        let mut rule = listed(id, &destination("someone"));
        rule.dest_stream_params = String::new();
        rule
    }

    fn created(plan: &Plan) -> Vec<&str> {
        plan.create.iter().map(|c| c.destination.as_str()).collect()
    }

    fn deleted(plan: &Plan) -> Vec<&str> {
        plan.delete.iter().map(|r| r.rule.as_str()).collect()
    }

    #[test]
    fn from_nothing_every_destination_gets_a_marked_rule() {
        let plan = plan(&[], &source(), &[destination("a"), destination("b")]);
        assert_eq!(created(&plan), ["a", "b"]);
        assert!(plan.delete.is_empty());
        let rule = &plan.create[0].rule;
        assert_eq!((rule.src_app.as_str(), rule.src_stream.as_str()), ("fanout", "live"));
        assert_eq!(rule.dest_stream.expose(), "key-a");
        assert_eq!(rule.dest_stream_params, "fanout=a");
    }

    #[test]
    fn a_synced_set_needs_nothing_and_is_adopted() {
        let (a, b) = (destination("a"), destination("b"));
        let existing = [listed("r1", &a), listed("r2", &b)];
        let plan = plan(&existing, &source(), &[a, b]);
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(plan.keep, ["a", "b"]);
    }

    #[test]
    fn one_leaving_and_one_joining_is_one_delete_and_one_create() {
        let (a, b, c) = (destination("a"), destination("b"), destination("c"));
        let existing = [listed("r1", &a), listed("r2", &b)];
        let plan = plan(&existing, &source(), &[a, c]);
        assert_eq!(deleted(&plan), ["r2"]);
        assert_eq!(created(&plan), ["c"]);
    }

    #[test]
    fn foreign_rules_are_never_deleted() {
        let existing = [foreign("x1"), foreign("x2")];
        let plan = plan(&existing, &source(), &[]);
        assert!(plan.is_empty(), "{plan:?}");
        assert!(owned(&existing).is_empty());
    }

    #[test]
    fn a_changed_key_or_address_replaces_the_rule() {
        let a = destination("a");
        let existing = [listed("r1", &a)];
        let mut rekeyed = a.clone();
        rekeyed.stream_key = Secret::new("new-key");
        let plan = plan(&existing, &source(), std::slice::from_ref(&rekeyed));
        assert_eq!((deleted(&plan), created(&plan)), (vec!["r1"], vec!["a"]));
        let mut moved = a;
        moved.port = 1936;
        moved.tls = true;
        let plan = super::plan(&existing, &source(), &[moved]);
        assert_eq!((deleted(&plan), created(&plan)), (vec!["r1"], vec!["a"]));
    }

    #[test]
    fn a_new_source_replaces_every_owned_rule() {
        let a = destination("a");
        let existing = [listed("r1", &a)];
        let other = Source { app: "fanout".into(), stream: "other".into() };
        let plan = plan(&existing, &other, &[a]);
        assert_eq!((deleted(&plan), created(&plan)), (vec!["r1"], vec!["a"]));
        assert_eq!(plan.create[0].rule.src_stream, "other");
    }

    #[test]
    fn duplicates_left_by_a_crash_are_reduced_to_one() {
        let a = destination("a");
        let existing = [listed("r1", &a), listed("r2", &a)];
        let plan = plan(&existing, &source(), std::slice::from_ref(&a));
        assert_eq!(deleted(&plan), ["r2"]);
        assert!(plan.create.is_empty());
        let twice = super::plan(&[], &source(), &[a.clone(), a]);
        assert_eq!(created(&twice), ["a"], "a destination listed twice gets one rule");
    }
}
