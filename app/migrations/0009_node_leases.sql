-- Several hosts (issue 18): each node's lease, and the one ingest lease of the cluster.
-- Every write to these tables is a single conditional statement (compare-and-set); a row is
-- never deleted, so an epoch only ever grows (it is the fencing token of a holding).

-- One row per node name ever used; live while expires_at (Unix milliseconds) is after now.
CREATE TABLE node_leases (
    name TEXT PRIMARY KEY NOT NULL,
    relay_url TEXT NOT NULL,
    capacity_mbps INTEGER NOT NULL,
    links INTEGER NOT NULL DEFAULT 0,
    egress_kbps INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX node_leases_expires ON node_leases (expires_at);

-- At most one row: who holds the cluster's ingest, under which epoch, until when.
CREATE TABLE ingest_lease (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    holder TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
