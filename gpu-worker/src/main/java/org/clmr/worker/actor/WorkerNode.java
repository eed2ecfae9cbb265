package org.clmr.worker.actor;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.ClusterSingletonSettings;
import akka.cluster.typed.SingletonActor;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.metrics.DeviceMemory;
import org.clmr.worker.metrics.MetricsEndpoint;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.train.TrainSettings;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One worker process's parts: the Aeron transport (embedded media driver by default), the training
 * thread ({@link StepLoop}), the checkpoint store (the coordinator's database, when configured), and an
 * Akka Cluster node of role {@code worker} running the {@link WorkerActor}, which reaches the
 * coordinator through a Cluster Singleton proxy. {@link #finished()} completes when the run ends for
 * this worker; {@link #close()} then releases everything.
 */
public final class WorkerNode implements AutoCloseable {
    private final ActorSystem<ToWorker> system;
    private final StepLoop loop;
    private final AeronTransport transport;
    private final CheckpointStore store;
    private final CompletableFuture<String> finished;
    private final WorkerActor.Identity identity;
    private final MetricsEndpoint metrics;

    private WorkerNode(ActorSystem<ToWorker> system, StepLoop loop, AeronTransport transport, CheckpointStore store,
                       CompletableFuture<String> finished, WorkerActor.Identity identity, MetricsEndpoint metrics) {
        this.system = system;
        this.loop = loop;
        this.transport = transport;
        this.store = store;
        this.finished = finished;
        this.identity = identity;
        this.metrics = metrics;
    }

    /**
     * Starts a worker.
     *
     * @param config     the resolved configuration
     * @param seedNodes  cluster seed nodes as host:port (the coordinator's Artery address)
     * @param datasetDir the packed dataset (the run's)
     * @param steps      receives a line per completed step (on the actor's thread)
     */
    public static WorkerNode start(Config config, List<String> seedNodes, Path datasetDir, Consumer<WorkerActor.StepLine> steps) {
        WorkerSettings ws = WorkerSettings.from(config);
        TrainSettings ts = TrainSettings.from(config);
        DataSettings ds = DataSettings.from(config);
        AeronSettings as = AeronSettings.from(config);
        if (seedNodes.isEmpty()) {
            throw new UserError("a worker needs --seed-nodes HOST:PORT (the coordinator node's cluster address)");
        }
        String datasetHash;
        try (PackedDataset d = PackedDataset.open(datasetDir)) {
            datasetHash = d.contentHash();
        }
        if (ws.pickFreeAeronPort()) {
            String host = AeronSettings.parseEndpoint("clmr.worker.aeron.endpoint", as.endpoint())[0];
            as = as.with(as.embeddedDriver(), as.driverDir(), as.ipc(), host + ":" + freeUdpPort(host));
        }
        AeronTransport transport = AeronTransport.start(as);
        CheckpointStore store = null;
        StepLoop loop = null;
        MetricsEndpoint endpoint = null;
        try {
            if (!ws.checkpointUrl().isEmpty()) {
                store = JdbcCheckpointStore.open(ws.checkpointUrl(), ws.checkpointUser(), ws.checkpointPassword(), 2);
            }
            String workerId = ws.host() + "/" + ts.device() + "/" + ProcessHandle.current().pid();
            WorkerActor.Identity id = new WorkerActor.Identity(workerId, ws.host(), describe(ts), as.endpoint(),
                    datasetHash, ws.samplesPerSecond());
            CompletableFuture<String> finished = new CompletableFuture<>();
            ActorSystem<ToWorker>[] holder = new ActorSystem[1];
            loop = new StepLoop(transport, store, datasetDir, ds, ts.djlDevice(), ts.threads(),
                    o -> holder[0].tell(WorkerActor.outcome(o)));
            WorkerMetrics metrics = new WorkerMetrics(workerId, ts.device(), ws.host(), transport.metrics(),
                    DeviceMemory.of(ts.djlDevice()));
            loop.reportTo(metrics);
            endpoint = MetricsEndpoint.start(config, ws.host(), metrics.registry());
            StepLoop loopRef = loop;
            holder[0] = ActorSystem.create(Behaviors.setup(ctx -> {
                ActorRef<ToCoordinator> proxy = ClusterSingleton.get(ctx.getSystem()).init(
                        SingletonActor.of(Behaviors.<ToCoordinator>ignore(), CoordinatorProtocol.SINGLETON_NAME)
                                .withSettings(ClusterSingletonSettings.create(ctx.getSystem())
                                        .withRole(CoordinatorProtocol.COORDINATOR_ROLE)));
                return WorkerActor.create(proxy, id, loopRef, ws.repeatInterval(), steps, finished);
            }), "clmr", akkaConfig(ws, seedNodes).withFallback(config));
            return new WorkerNode(holder[0], loop, transport, store, finished, id, endpoint);
        } catch (RuntimeException e) {
            if (endpoint != null) {
                endpoint.close();
            }
            if (loop != null) {
                loop.close();
            }
            if (store != null) {
                store.close();
            }
            transport.close();
            throw e;
        }
    }

    private static String describe(TrainSettings ts) {
        return org.clmr.worker.device.Devices.describe(ts.device());
    }

    private static int freeUdpPort(String host) {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName(host))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UserError("cannot find a free UDP port on " + host + " for Aeron (" + e.getMessage()
                    + "): check clmr.worker.aeron.endpoint");
        }
    }

    /**
     * Akka's settings for a worker node: cluster provider, Artery, role {@code worker}, seeds, and the
     * Split Brain Resolver keeping the side with the oldest coordinator node (workers are expendable; the
     * default keep-majority would down the coordinator of a 2-node cluster whose worker has the lower address).
     */
    static Config akkaConfig(WorkerSettings s, List<String> seedNodes) {
        List<String> seeds = seedNodes.stream().map(n -> n.startsWith("akka://") ? n : "akka://clmr@" + n).toList();
        Map<String, Object> values = Map.ofEntries(
                Map.entry("akka.actor.provider", "cluster"),
                Map.entry("akka.remote.artery.canonical.hostname", s.host()),
                Map.entry("akka.remote.artery.canonical.port", s.port()),
                Map.entry("akka.cluster.roles", List.of("worker")),
                Map.entry("akka.cluster.seed-nodes", seeds),
                Map.entry("akka.cluster.downing-provider-class", "akka.cluster.sbr.SplitBrainResolverProvider"),
                Map.entry("akka.cluster.split-brain-resolver.active-strategy", "keep-oldest"),
                Map.entry("akka.cluster.split-brain-resolver.keep-oldest.role", CoordinatorProtocol.COORDINATOR_ROLE),
                Map.entry("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on"),
                Map.entry("akka.coordinated-shutdown.exit-jvm", "off"));
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c;
    }

    /** Who this worker registers as. */
    public WorkerActor.Identity identity() {
        return identity;
    }

    /** Completes when the run ends for this worker: null when it ended normally, else why it gave up. */
    public CompletableFuture<String> finished() {
        return finished;
    }

    /**
     * Drains this worker (what SIGTERM does): it leaves the run at the next plan boundary, the other members
     * going on from that step, and {@link #finished()} then completes normally. Any thread.
     */
    public void drain() {
        system.tell(WorkerActor.drain());
    }

    /** Leaves the cluster and releases the training thread, the store and Aeron. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            Thread.currentThread().interrupt();
        }
        loop.close();
        metrics.close();
        if (store != null) {
            store.close();
        }
        transport.close();
    }
}
