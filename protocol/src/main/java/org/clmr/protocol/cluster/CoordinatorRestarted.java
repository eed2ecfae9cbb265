package org.clmr.protocol.cluster;

import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;

/**
 * From a coordinator that recovered a run from its journal to each worker it had recorded whose node is not in its
 * cluster: those joined an earlier incarnation, now dead, of this coordinator node ({@code address}; this one's
 * {@code uid}). A worker whose cluster view still holds that earlier incarnation (same address, another UID: a
 * port is bound by one process at a time) replaces its cluster node at once and registers again, instead of
 * waiting for its failure detector and {@code clmr.worker.cluster.coordinator-lost-after}. One that does not
 * ignores it.
 *
 * @param address the coordinator node's address, e.g. {@code akka://clmr@10.0.0.1:2551}
 * @param uid     that node's unique id ({@code akka.cluster.UniqueAddress#longUid})
 */
public record CoordinatorRestarted(String address, long uid) implements ToWorker {
}
