// Package api is the network face of a coordination server: the Connect
// service assistent.federation.v1.RegistryService (proto/assistent/federation/v1)
// over mutual TLS.
//
// # Data flow
//
// Reads (Get, List, Watch, GetBlob) are answered from the server's own
// registry replica; blocking reads and watches wake on the FSM's broadcast.
// Writes (Apply) go to the Raft leader: a follower forwards the command to the
// leader over Connect, presenting its own server certificate and naming the
// original caller in on_behalf_of (honoured only from role server). While
// there is no leader it retries with jittered backoff for at most
// Options.ForwardTimeout. The idempotency key travels unchanged, so a client
// that retries a write whose outcome it does not know is applied at most once.
//
// # Authorisation
//
// The caller is the identity in its client certificate
// (trust.IdentityFromContext). Everyone with a valid certificate may read and
// watch. Writes:
//
//   - role server: anything (forwarding);
//   - role operator: puts and deletes of orgs, templates, routes, providers
//     and settings;
//   - role publisher: blobs, and collections whose Publisher is its own org;
//   - role node: only its own node registration (key = its node id, org = its
//     org).
//
// Ownership (an existing collection or node registration belonging to another
// org) is checked on the leader, against the freshest state; when the object
// does not exist yet the command is made conditional on its absence, so two
// organisations racing to create the same name cannot take over each other's
// object. Refusals are connect.CodePermissionDenied with an English message.
//
// # Join without a certificate
//
// Join is served on the same listener. ServerTLS uses
// tls.VerifyClientCertIfGiven: a certificate, when presented, must chain to
// the federation CA, be unrevoked and carry a valid identity, or the handshake
// fails; without one the connection is accepted and every method except Join
// answers connect.CodeUnauthenticated. One listener keeps deployment simple
// (one port, one certificate); the cost is that anonymous clients can reach
// the HTTP/2 stack, which is bounded by request size limits and by Join being
// a cheap call.
//
// # Watch
//
// Watch starts with a snapshot when the caller asks from index 0, is behind
// the server's change history, or comes from another cluster: every message
// carries the registry's cluster id, and the caller sends the id its cache
// came from. A caller of the same cluster that is ahead of the server meets a
// follower that lags (during a failover the commit index reaches followers
// only after the election): the server waits up to Options.ResyncGrace,
// sending heartbeats, and then ends the stream Unavailable, so the caller
// tries another server; a snapshot would move its cache back in time. A
// caller without a cluster id (a cache from before ids) is ahead of a server
// either because the server lags or because the cluster was rebuilt; after
// the grace it gets the snapshot. Batches larger than about 1 MiB
// are split into parts (more = true on all but the last). Heartbeats every
// Options.Heartbeat let clients detect dead streams.
package api
