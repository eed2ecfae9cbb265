package org.clmr.worker.actor;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.BehaviorInterceptor;
import akka.actor.typed.TypedActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Cluster;
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
import org.clmr.protocol.checkpoint.ClusterCheckpointStore;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.cluster.ClusterDowning;
import org.clmr.protocol.cluster.DowningLog;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorRestarted;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.http.HttpGuard;
import org.clmr.protocol.http.HttpTls;
import org.clmr.protocol.security.Binding;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.SecuritySettings;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.LinkMtu;
import org.clmr.worker.metrics.DeviceMemory;
import org.clmr.worker.metrics.MetricsEndpoint;
import org.clmr.worker.metrics.MetricsSettings;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.train.TrainSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One worker process's parts: the Aeron transport (embedded media driver by default), the training
 * thread ({@link StepLoop}), the checkpoint store (by default a {@link ClusterCheckpointStore}, which hands
 * checkpoints to the coordinator over the cluster; a networked database when configured), and an Akka Cluster
 * node of role {@code worker} running the {@link WorkerActor}, which reaches the coordinator through a Cluster
 * Singleton proxy. Before it binds anything the worker runs the secure-by-default check
 * ({@link NodeSecurity#open}) on its cluster, metrics and Aeron addresses; every cluster node it starts runs
 * Artery on mutual TLS when key material is configured. {@link #finished()} completes when the run ends for
 * this worker; {@link #close()} then releases everything.
 *
 * <p>The cluster node is replaceable, the rest is not: when no coordinator node has been reachable for
 * {@code clmr.worker.cluster.coordinator-lost-after}, or the node is downed or stops on its own (the Split
 * Brain Resolver keeps the coordinator's side, so a worker alone with a dead coordinator downs itself),
 * the worker starts a new node in this process, which joins the seed nodes again and registers with
 * whatever coordinator comes back there, declaring the training state the step loop still holds. The
 * model, optimizer state, dataset and Aeron stay as they are; a restarted coordinator therefore resumes
 * the run from the workers' newest state, not from its last checkpoint.
 */
public final class WorkerNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerNode.class);

    private final Config config;
    private final WorkerSettings settings;
    private final List<String> seedNodes;
    private final AeronTransport transport;
    private final NodeSecurity security;
    private final CompletableFuture<String> finished = new CompletableFuture<>();
    private final WorkerActor.Identity identity;
    private final Consumer<WorkerActor.StepLine> steps;
    private final Object lock = new Object();
    private CheckpointStore store;
    private StepLoop loop;
    private WorkerMetrics workerMetrics;
    private MetricsEndpoint metrics;
    private volatile ActorSystem<ToWorker> system;
    private boolean closing;
    private int incarnations;

    private WorkerNode(Config config, WorkerSettings settings, List<String> seedNodes, AeronTransport transport,
                       WorkerActor.Identity identity, Consumer<WorkerActor.StepLine> steps, NodeSecurity security) {
        this.config = config;
        this.settings = settings;
        this.seedNodes = List.copyOf(seedNodes);
        this.transport = transport;
        this.identity = identity;
        this.steps = steps;
        this.security = security;
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
        MetricsSettings ms = MetricsSettings.from(config);
        if (seedNodes.isEmpty()) {
            throw new UserError("a worker needs --seed-nodes HOST:PORT (the coordinator node's cluster address)");
        }
        SecuritySettings securitySettings = SecuritySettings.from(config);
        NodeSecurity security = NodeSecurity.open(securitySettings, bindings(ws, as, ms));
        security.warnings().forEach(LOG::warn);
        Optional<SSLContext> https = HttpTls.serverContext(ms.tls(), security, MetricsSettings.TLS_KEY);
        String datasetHash;
        try (PackedDataset d = PackedDataset.open(datasetDir)) {
            datasetHash = d.contentHash();
        }
        if (ws.pickFreeAeronPort()) {
            String host = AeronSettings.parseEndpoint("clmr.worker.aeron.endpoint", as.endpoint())[0];
            as = as.with(as.embeddedDriver(), as.driverDir(), as.ipc(), host + ":" + freeUdpPort(host));
        }
        if (!as.ipc()) {
            LinkMtu.check(AeronSettings.parseEndpoint("clmr.worker.aeron.endpoint", as.endpoint())[0],
                    as.udpMtu(List.of(as.endpoint())));
        }
        AeronTransport transport = AeronTransport.start(as);
        WorkerNode node = null;
        try {
            String workerId = ws.host() + "/" + ts.device() + "/" + ProcessHandle.current().pid();
            WorkerActor.Identity id = new WorkerActor.Identity(workerId, ws.host(), describe(ts), as.endpoint(),
                    datasetHash, ws.samplesPerSecond());
            node = new WorkerNode(config, ws, seedNodes, transport, id, steps, security);
            WorkerNode self = node;
            node.store = ws.checkpointUrl().isEmpty()
                    ? new ClusterCheckpointStore(() -> self.system, workerId, ws.checkpointTimeout())
                    : JdbcCheckpointStore.open(ws.checkpointUrl(), ws.checkpointUser(), ws.checkpointPassword(), 2);
            node.loop = new StepLoop(workerId, transport, node.store, datasetDir, ds, ts,
                    o -> self.system.tell(WorkerActor.outcome(o)));
            node.workerMetrics = new WorkerMetrics(workerId, ts.device(), ws.host(), transport.metrics(),
                    DeviceMemory.of(ts.djlDevice()));
            node.loop.reportTo(node.workerMetrics);
            node.metrics = MetricsEndpoint.start(config, ws.host(), node.workerMetrics.registry(),
                    HttpGuard.of(security, securitySettings.controlToken()), https);
            synchronized (node.lock) {
                node.system = node.startSystem();
            }
            return node;
        } catch (RuntimeException e) {
            if (node != null && node.metrics != null) {
                node.metrics.close();
            }
            if (node != null && node.loop != null) {
                node.loop.close();
            }
            if (node != null && node.store != null) {
                node.store.close();
            }
            transport.close();
            throw e;
        }
    }

    /** Every address this worker binds, for the secure-by-default check: cluster, metrics and (over UDP) Aeron. */
    private static List<Binding> bindings(WorkerSettings ws, AeronSettings as, MetricsSettings ms) {
        List<Binding> b = new ArrayList<>(List.of(new Binding("clmr.worker.cluster.host", ws.host()),
                new Binding(ms.host().isEmpty() ? "clmr.worker.cluster.host" : MetricsSettings.HOST_KEY,
                        ms.hostOr(ws.host()))));
        if (!as.ipc()) {
            b.add(Binding.endpoint("clmr.worker.aeron.endpoint", as.endpoint()));
        }
        return b;
    }

    /** A new cluster node with a new worker actor (registering afresh) and a coordinator watch. */
    private ActorSystem<ToWorker> startSystem() {
        incarnations++;
        ActorSystem<ToWorker> created = ActorSystem.create(Behaviors.setup(ctx -> {
            ActorRef<ToCoordinator> proxy = ClusterSingleton.get(ctx.getSystem()).init(
                    SingletonActor.of(Behaviors.<ToCoordinator>ignore(), CoordinatorProtocol.SINGLETON_NAME)
                            .withSettings(ClusterSingletonSettings.create(ctx.getSystem())
                                    .withRole(CoordinatorProtocol.COORDINATOR_ROLE)));
            ActorSystem<?> mine = ctx.getSystem();
            ctx.spawn(CoordinatorWatch.create(settings.coordinatorLostAfter(), Duration.ofMillis(500),
                    () -> replaceLater(mine, "no coordinator node reachable for "
                            + settings.coordinatorLostAfter().toSeconds() + " s")), "coordinator-watch");
            return Behaviors.intercept(() -> new RestartedCoordinator(mine),
                    WorkerActor.create(proxy, identity, loop, workerMetrics, settings.repeatInterval(), steps, finished));
        }), "clmr", akkaConfig(settings, seedNodes, security.akkaSettings()).withFallback(config));
        DowningLog.start(created);
        created.getWhenTerminated().whenComplete((done, err) ->
                replaceLater(created, "its cluster node stopped (downed, or removed from the cluster)"));
        return created;
    }

    /**
     * Takes {@link CoordinatorRestarted} off the worker actor's messages: a coordinator that came back at the address
     * of one this node still holds as a member (another UID) has this node replaced now, not once the dead
     * incarnation has been unreachable for {@code coordinator-lost-after}. On the actor's thread.
     */
    private final class RestartedCoordinator extends BehaviorInterceptor<ToWorker, ToWorker> {
        private final ActorSystem<?> node;

        RestartedCoordinator(ActorSystem<?> node) {
            super(ToWorker.class);
            this.node = node;
        }

        @Override
        public Behavior<ToWorker> aroundReceive(TypedActorContext<ToWorker> ctx, ToWorker msg,
                                                ReceiveTarget<ToWorker> target) {
            if (!(msg instanceof CoordinatorRestarted r)) {
                return target.apply(ctx, msg);
            }
            if (CoordinatorWatch.holdsEarlierIncarnation(Cluster.get(node).state(), r.address(), r.uid())) {
                replaceLater(node, "the coordinator at " + r.address() + " restarted (a new incarnation told this"
                        + " worker)");
            } else {
                ctx.asJava().getLog().info("ignoring a restart notice from {}: this node holds no earlier incarnation of"
                        + " it", r.address());
            }
            return Behaviors.same();
        }
    }

    /** Replaces the cluster node {@code old}, unless it was already replaced or the worker is closing. */
    private void replaceLater(ActorSystem<?> old, String why) {
        Thread t = new Thread(() -> replace(old, why), "clmr-worker-rejoin");
        t.setDaemon(true);
        t.start();
    }

    private void replace(ActorSystem<?> old, String why) {
        synchronized (lock) {
            if (closing || old != system || finished.isDone()) {
                return;
            }
            LOG.warn("{}: starting cluster node {} in this process, joining {} again and keeping the training state ({})",
                    why, incarnations + 1, seedNodes, loop.held() == null ? "none yet" : "step " + loop.held().step());
            system = startSystem();
        }
        old.terminate();
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
     * Akka's settings for a worker node: cluster provider, Artery (on mutual TLS when {@code tls} has entries, see
     * {@link NodeSecurity#akkaSettings}), role {@code worker}, seeds, and the cluster's downing
     * ({@link ClusterDowning}).
     */
    static Config akkaConfig(WorkerSettings s, List<String> seedNodes, Map<String, Object> tls) {
        List<String> seeds = seedNodes.stream().map(n -> n.startsWith("akka://") ? n : "akka://clmr@" + n).toList();
        Map<String, Object> values = new HashMap<>(ClusterDowning.settings(s.downUnreachableAfter()));
        values.putAll(tls);
        values.putAll(Map.ofEntries(
                Map.entry("akka.actor.provider", "cluster"),
                Map.entry("akka.remote.artery.canonical.hostname", s.host()),
                Map.entry("akka.remote.artery.canonical.port", s.port()),
                Map.entry("akka.cluster.roles", List.of("worker")),
                Map.entry("akka.cluster.seed-nodes", seeds),
                // a worker whose coordinator is being restarted keeps asking the seed nodes, and soon
                Map.entry("akka.cluster.seed-node-timeout", "2s"),
                Map.entry("akka.cluster.retry-unsuccessful-join-after", "2s"),
                Map.entry("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on"),
                Map.entry("akka.coordinated-shutdown.exit-jvm", "off")));
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
        ActorSystem<ToWorker> last;
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            last = system;
        }
        last.terminate();
        try {
            last.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("the cluster node did not stop within 30 s: {}", e.toString());
        }
        loop.close();
        metrics.close();
        store.close();
        transport.close();
    }
}
