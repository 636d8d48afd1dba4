//! A node's cluster settings (issue 18): `FANOUT_NODE_NAME`, `FANOUT_NODE_RELAY_URL` and
//! `FANOUT_PORT_MBPS` together make `fanout serve` a node of a cluster sharing the store; all
//! three or none (the port's capacity alone is the capacity planner's, as before).

use app::model::NodeName;
use app::store::{NodeClaim, StoreLocation};
use clap::Args;
use url::Url;

use super::{Findings, Level};

/// A node's settings as given.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// This node's name in a cluster of several hosts (letters, digits, `.`, `_`, `-`; up to 63),
    /// unique in the cluster. With `FANOUT_NODE_RELAY_URL` and `FANOUT_PORT_MBPS`, makes this
    /// server a node sharing the store's destinations with the others.
    #[arg(long, env = "FANOUT_NODE_NAME", global = true)]
    pub node_name: Option<String>,

    /// Where the other nodes reach this node's relay: `rtmp://host:port/app`.
    #[arg(long, env = "FANOUT_NODE_RELAY_URL", global = true)]
    pub node_relay_url: Option<String>,
}

/// A node's checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSettings {
    /// Its name.
    pub name: NodeName,
    /// Its relay's address for the other nodes (`rtmp://`).
    pub relay_url: Url,
    /// Its port's capacity, in Mbit/s.
    pub capacity_mbps: u32,
}

impl NodeSettings {
    /// What the node says about itself in its lease.
    pub fn claim(&self) -> NodeClaim {
        NodeClaim { name: self.name.clone(), relay_url: self.relay_url.to_string(), capacity_mbps: self.capacity_mbps }
    }
}

const TOGETHER: &str = "FANOUT_NODE_NAME, FANOUT_NODE_RELAY_URL and FANOUT_PORT_MBPS go together: set all three to join a cluster, or neither of the first two";

/// Checks the node settings: `Some(None)` when this server is no cluster node, `None` on an error.
pub(super) fn check_node(
    args: &NodeArgs,
    port_mbps: Option<u32>,
    store: Option<&StoreLocation>,
    findings: &mut Findings,
) -> Option<Option<NodeSettings>> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let (name, relay_url) = (given(&args.node_name), given(&args.node_relay_url));
    if name.is_none() && relay_url.is_none() {
        return Some(None);
    }
    let mut ok = true;
    for (subject, missing) in
        [("FANOUT_NODE_NAME", name.is_none()), ("FANOUT_NODE_RELAY_URL", relay_url.is_none()), ("FANOUT_PORT_MBPS", port_mbps.is_none())]
    {
        if missing {
            findings.push(Level::Error, subject, format!("not set — {TOGETHER}"));
            ok = false;
        }
    }
    let name = name.and_then(|name| match name.parse::<NodeName>() {
        Ok(name) => Some(name),
        Err(error) => {
            findings.push(Level::Error, "FANOUT_NODE_NAME", format!("{name:?}: {error}"));
            None
        }
    });
    let relay_url = relay_url.and_then(|url| match relay_url_of(&url) {
        Ok(url) => Some(url),
        Err(problem) => {
            findings.push(Level::Error, "FANOUT_NODE_RELAY_URL", format!("{url:?}: {problem}"));
            None
        }
    });
    let (Some(name), Some(relay_url), Some(capacity_mbps), true) = (name, relay_url, port_mbps.filter(|m| *m > 0), ok) else {
        return None;
    };
    findings.push(Level::Ok, "FANOUT_NODE_NAME", format!("node {name} of a cluster, its relay at {relay_url}, {capacity_mbps} Mbit/s"));
    if let Some(StoreLocation::Sqlite(_)) = store {
        findings.push(
            Level::Note,
            "FANOUT_NODE_NAME",
            "the store is SQLite: the cluster's nodes must share this host (use FANOUT_MONGO_URI, a replica set, for hosts apart)",
        );
    }
    Some(Some(NodeSettings { name, relay_url, capacity_mbps }))
}

/// An `rtmp://host[:port]/app` URL without credentials.
fn relay_url_of(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text).map_err(|_| "not a URL; write rtmp://host:port/app")?;
    if url.scheme() != "rtmp" {
        return Err("must be an rtmp:// URL (the other nodes' relays push to it)");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("names no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a login (the cluster's links have their own key)");
    }
    if url.path().trim_matches('/').is_empty() {
        return Err("names no application: write rtmp://host:port/app");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: Option<&str>, url: Option<&str>, mbps: Option<u32>) -> (Option<Option<NodeSettings>>, Findings) {
        let args = NodeArgs { node_name: name.map(Into::into), node_relay_url: url.map(Into::into) };
        let mut findings = Findings::default();
        (check_node(&args, mbps, None, &mut findings), findings)
    }

    fn errors(findings: &Findings) -> Vec<String> {
        findings.at_least(Level::Error).map(|f| format!("{}: {}", f.subject, f.detail)).collect()
    }

    #[test]
    fn no_node_settings_is_no_cluster_and_no_finding() {
        let (settings, findings) = check(None, None, Some(100));
        assert_eq!(settings, Some(None));
        assert!(findings.0.is_empty());
    }

    #[test]
    fn all_three_node_settings_make_a_node() {
        let (settings, findings) = check(Some("node-a"), Some("rtmp://10.0.0.2:1935/fanout"), Some(1000));
        let node = settings.flatten().unwrap_or_else(|| panic!("{findings}"));
        assert_eq!((node.name.as_str(), node.relay_url.as_str(), node.capacity_mbps), ("node-a", "rtmp://10.0.0.2:1935/fanout", 1000));
        assert_eq!(node.claim().relay_url, "rtmp://10.0.0.2:1935/fanout");
    }

    #[test]
    fn node_settings_go_all_three_or_none() {
        let (settings, findings) = check(Some("node-a"), None, None);
        assert_eq!(settings, None);
        let said = errors(&findings);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said.iter().all(|e| e.contains("go together")), "{said:?}");
        assert!(said[0].starts_with("FANOUT_NODE_RELAY_URL") && said[1].starts_with("FANOUT_PORT_MBPS"));
        let (settings, findings) = check(None, Some("rtmp://h/app"), Some(10));
        assert_eq!((settings, errors(&findings).len()), (None, 1));
    }

    #[test]
    fn a_bad_node_name_or_relay_url_is_an_error_that_says_why() {
        let (settings, findings) = check(Some("node a"), Some("http://h/app"), Some(10));
        assert_eq!(settings, None);
        let said = errors(&findings).join("\n");
        assert!(said.contains("FANOUT_NODE_NAME: \"node a\": a node name holds only"), "{said}");
        assert!(said.contains("FANOUT_NODE_RELAY_URL: \"http://h/app\": must be an rtmp:// URL"), "{said}");
        for (url, why) in
            [("rtmp://user:pw@h/app", "login"), ("rtmp://h:1935", "no application"), ("rtmp:///app", "no host"), ("h:1935/app", "rtmp://")]
        {
            let (settings, findings) = check(Some("n"), Some(url), Some(10));
            assert_eq!(settings, None, "{url}");
            assert!(errors(&findings).join("").contains(why), "{url}: {findings}");
        }
    }
}
