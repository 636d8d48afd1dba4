//! Which node serves each destination: weighted rendezvous hashing (highest random weight),
//! pure — every node computes the same answer from the same live nodes and destinations.
//!
//! For a destination `d`, each node `n` scores `weight(n) / -ln(unit(n, d))`, where `unit` is a
//! hash of the pair mapped into (0, 1) and `weight` the capacity the node has left (its port
//! minus the links it carries). This is the logarithmic method: a node wins a destination with
//! probability proportional to its weight, and a node's joining or leaving changes only the
//! destinations whose winner it becomes or was. Each destination costs its bitrate; a node
//! never takes more than its safe share (80 % of its port) — when the best-scoring node is
//! full, the next by score serves, and what fits nowhere is the cluster's [`Shortage`].
//!
//! **The hash** is SipHash-2-4 with fixed keys (the `siphasher` crate): a specified algorithm
//! with published test vectors, so two builds or two versions of Fanout agree — unlike
//! `std::hash`, whose output Rust does not promise to keep. A test pins its values.
//! **The logarithm** is computed here from IEEE additions, multiplications and divisions only
//! (bit-exact everywhere), not by the platform's `libm`, whose last bit may differ between hosts.
//! **The order** is by destination text and node name (sorted here, whatever the input order;
//! no hash-map iteration anywhere), so the capacity limit is applied in the same order on
//! every node.

use std::collections::BTreeMap;

use app::model::{DestinationId, NodeName};
use app::store::NodeLease;
use siphasher::sip::SipHasher24;

/// The part of a node's port the planner fills at most, in percent.
pub const SAFE_SHARE_PERCENT: u64 = 80;

/// The fixed SipHash keys: the ASCII of "fanout-rendezvous" cut to 16 bytes. Changing them
/// moves every destination.
const KEYS: (u64, u64) = (u64::from_le_bytes(*b"fanout-r"), u64::from_le_bytes(*b"endezvou"));

/// One live node, as the assignment sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeCapacity {
    /// Its name.
    pub name: NodeName,
    /// Its port's capacity, in kbit/s.
    pub port_kbps: u64,
    /// What the node links it carries cost, in kbit/s.
    pub links_kbps: u64,
}

impl NodeCapacity {
    /// A live node's capacity from its lease, each link it carries costing `link_kbps`.
    pub fn from_lease(lease: &NodeLease, link_kbps: u64) -> Self {
        Self {
            name: lease.name().clone(),
            port_kbps: u64::from(lease.claim.capacity_mbps).saturating_mul(1000),
            links_kbps: u64::from(lease.report.links).saturating_mul(link_kbps),
        }
    }

    /// The rendezvous weight: the capacity left beside the links.
    fn weight(&self) -> u64 {
        self.port_kbps.saturating_sub(self.links_kbps)
    }

    /// What destinations may take of the port: the safe share less the links.
    fn budget_kbps(&self) -> u64 {
        safe_share_kbps(self.port_kbps).saturating_sub(self.links_kbps)
    }
}

/// [`SAFE_SHARE_PERCENT`] of a port, in kbit/s (rounded down).
pub fn safe_share_kbps(port_kbps: u64) -> u64 {
    port_kbps / 100 * SAFE_SHARE_PERCENT + port_kbps % 100 * SAFE_SHARE_PERCENT / 100
}

/// One destination to place, and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Demand {
    /// The destination.
    pub id: DestinationId,
    /// Its bitrate, in kbit/s.
    pub kbps: u64,
}

/// What one node serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLoad {
    /// How many destinations.
    pub destinations: usize,
    /// Their bitrate, in kbit/s.
    pub kbps: u64,
    /// What it may take at most (its safe share less its links), in kbit/s.
    pub budget_kbps: u64,
}

/// What fits on no node: the dashboard's "the cluster is short by N destinations / X Mbit/s".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shortage {
    /// The destinations no node can take, by id.
    pub destinations: Vec<DestinationId>,
    /// Their bitrate, in kbit/s.
    pub kbps: u64,
}

impl Shortage {
    /// Whether everything fits.
    pub fn is_empty(&self) -> bool {
        self.destinations.is_empty()
    }
}

/// Which node serves each destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// The node serving each destination that fits.
    pub serving: BTreeMap<DestinationId, NodeName>,
    /// Every live node's load (those serving nothing too).
    pub loads: BTreeMap<NodeName, NodeLoad>,
    /// What fits nowhere.
    pub shortage: Shortage,
}

impl Assignment {
    /// The destinations `node` serves, by id.
    pub fn served_by<'a>(&'a self, node: &'a NodeName) -> impl Iterator<Item = &'a DestinationId> + 'a {
        self.serving.iter().filter(move |(_, n)| *n == node).map(|(d, _)| d)
    }
}

/// Places `demands` on `nodes`. Input order does not matter; a name or a destination given
/// twice counts once (the first after sorting).
pub fn assign(nodes: &[NodeCapacity], demands: &[Demand]) -> Assignment {
    let mut nodes = nodes.to_vec();
    nodes.sort();
    nodes.dedup_by(|later, first| later.name == first.name);
    let mut demands: Vec<(String, &Demand)> = demands.iter().map(|d| (d.id.to_string(), d)).collect();
    demands.sort();
    demands.dedup_by(|later, first| later.0 == first.0);

    let mut left: Vec<u64> = nodes.iter().map(NodeCapacity::budget_kbps).collect();
    let mut assignment = Assignment {
        loads: nodes.iter().map(|n| (n.name.clone(), NodeLoad { budget_kbps: n.budget_kbps(), ..NodeLoad::default() })).collect(),
        ..Assignment::default()
    };
    let mut ranked: Vec<(f64, usize)> = Vec::with_capacity(nodes.len());
    for (text, demand) in demands {
        ranked.clear();
        ranked.extend(nodes.iter().enumerate().filter(|(_, n)| n.weight() > 0).map(|(i, n)| (score(n, &text), i)));
        // Highest score first; equal scores (practically never) by name, already the index order.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let chosen = ranked.iter().map(|&(_, i)| i).find(|&i| left[i] >= demand.kbps);
        match chosen {
            Some(i) => {
                left[i] -= demand.kbps;
                let node = &nodes[i].name;
                if let Some(load) = assignment.loads.get_mut(node) {
                    load.destinations += 1;
                    load.kbps = load.kbps.saturating_add(demand.kbps);
                }
                assignment.serving.insert(demand.id.clone(), node.clone());
            }
            None => {
                assignment.shortage.destinations.push(demand.id.clone());
                assignment.shortage.kbps = assignment.shortage.kbps.saturating_add(demand.kbps);
            }
        }
    }
    assignment
}

/// How an assignment changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moves {
    /// Destinations served by the same node in both.
    pub stayed: usize,
    /// Destinations served in both, by another node after.
    pub moved: usize,
    /// Destinations served after only.
    pub placed: usize,
    /// Destinations served before only.
    pub unplaced: usize,
}

/// Compares two assignments destination by destination.
pub fn moves(before: &Assignment, after: &Assignment) -> Moves {
    let mut moves = Moves::default();
    for (destination, node) in &after.serving {
        match before.serving.get(destination) {
            Some(was) if was == node => moves.stayed += 1,
            Some(_) => moves.moved += 1,
            None => moves.placed += 1,
        }
    }
    moves.unplaced = before.serving.keys().filter(|d| !after.serving.contains_key(*d)).count();
    moves
}

/// The rendezvous score of `node` for the destination written `destination`.
fn score(node: &NodeCapacity, destination: &str) -> f64 {
    #[allow(clippy::cast_precision_loss)] // a port's kbit/s are far below 2^53: exact
    let weight = node.weight() as f64;
    weight / -ln(unit(pair_hash(&node.name, destination)))
}

/// SipHash-2-4 (fixed keys) of the pair: the name's length, the name, the destination's text.
pub(crate) fn pair_hash(node: &NodeName, destination: &str) -> u64 {
    let name = node.as_str().as_bytes();
    let mut bytes = Vec::with_capacity(4 + name.len() + destination.len());
    bytes.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_le_bytes());
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(destination.as_bytes());
    SipHasher24::new_with_keys(KEYS.0, KEYS.1).hash(&bytes)
}

/// A hash as a number in the open interval (0, 1): its top 52 bits, centred (52, so that
/// `top + 0.5` still fits a double's 53-bit mantissa and the largest hash stays below 1).
pub(crate) fn unit(hash: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // 52 bits: exact
    let top = (hash >> 12) as f64;
    (top + 0.5) / 4_503_599_627_370_496.0 // 2^52
}

/// The natural logarithm of `x` in (0, 1], from IEEE-exact operations only, so every host
/// computes the same bits: `x = m·2^e` with `m` in [√½, √2), then `ln m = 2·atanh((m-1)/(m+1))`
/// by its series (|s| < 0.172: 13 terms reach the last bit).
pub(crate) fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_normal());
    let bits = x.to_bits();
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // 11 bits
    let mut exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut series = 0.0;
    for k in (0..13).rev() {
        series = series * s2 + 1.0 / f64::from(2 * k + 1);
    }
    f64::from(exponent) * std::f64::consts::LN_2 + 2.0 * s * series
}

#[cfg(test)]
mod tests;
