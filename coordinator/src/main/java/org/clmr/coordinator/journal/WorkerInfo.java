package org.clmr.coordinator.journal;

import akka.actor.typed.ActorRef;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;

/**
 * A registered worker as the coordinator's state holds it.
 *
 * @param samplesPerSecond throughput this generation's shares were computed from
 * @param share            its share in the current generation (0 while it waits to join)
 * @param held             the training state it said it held when it registered, or null (persisted with
 *                         its {@link CoordinatorEvent.WorkerJoined}, so a restarted coordinator still knows it)
 */
public record WorkerInfo(String workerId, String host, String device, String aeronEndpoint, double samplesPerSecond,
                         int share, ActorRef<ToWorker> ref, HeldState held) implements CborSerializable {

    /** From a registration, before it has a share. */
    public static WorkerInfo of(Register r) {
        return new WorkerInfo(r.workerId(), r.host(), r.device(), r.aeronEndpoint(), r.samplesPerSecond(), 0, r.replyTo(),
                r.held());
    }

    /** The same worker with a share computed from this throughput. */
    public WorkerInfo withShare(int newShare, double throughput) {
        return new WorkerInfo(workerId, host, device, aeronEndpoint, throughput, newShare, ref, held);
    }
}
