//! A Fanout node's place in a cluster of several hosts (issue 18; ARCHITECTURE.md, "Several
//! hosts"): the node's lease in the shared store and the live nodes it sees (`lease`), and which
//! node serves each destination (`assign`, pure). The node links (the ingest node's relay
//! feeding the others) and the ingest election build on these; they are not here yet.

pub mod assign;

pub mod lease;
