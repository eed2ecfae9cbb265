package org.clmr.coordinator;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.ClusterSingletonSettings;
import akka.cluster.typed.Join;
import akka.cluster.typed.SingletonActor;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.coordinator.http.StatusHttpServer;
import org.clmr.coordinator.steplog.ProgressLog;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointReceiver;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.cluster.ClusterDowning;
import org.clmr.protocol.cluster.DowningLog;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.PortCheck;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.http.HttpGuard;
import org.clmr.protocol.http.HttpTls;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.security.Binding;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.SecuritySettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One coordinator node: an Akka Cluster member of role {@code coordinator} that hosts the
 * {@link Coordinator} as a Cluster Singleton (it runs on the oldest coordinator node and moves when that
 * node leaves), the checkpoint store with the receiver of the checkpoints workers hand over
 * ({@link CheckpointReceiver}), and the HTTP endpoint with status, metrics and operator commands. Only this process
 * opens its database.
 */
public final class CoordinatorNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorNode.class);

    private final ActorSystem<Void> system;
    private final ActorRef<ToCoordinator> coordinator;
    private final CheckpointStore store;
    private final StatusHttpServer http;
    private final CoordinatorSettings settings;
    private final RunSpec spec;

    /** Closes the HTTP endpoint, the store, the step log and the run dir's lock, once. */
    private final Runnable release;

    private CoordinatorNode(ActorSystem<Void> system, ActorRef<ToCoordinator> coordinator, CheckpointStore store,
                            StatusHttpServer http, CoordinatorSettings settings, RunSpec spec, Runnable release) {
        this.release = release;
        this.system = system;
        this.coordinator = coordinator;
        this.store = store;
        this.http = http;
        this.settings = settings;
        this.spec = spec;
    }

    /**
     * Starts a node.
     *
     * @param config resolved configuration (the {@code clmr} tree validated)
     * @param runDir holds the default H2 database; created if missing
     */
    public static CoordinatorNode start(Config config, Path runDir) {
        return start(config, CoordinatorSettings.from(config), runDir);
    }

    /**
     * Starts a node with explicit settings (tests vary ports and database). Before it binds anything it runs the
     * secure-by-default check ({@link NodeSecurity#open}) on its cluster and HTTP addresses and logs its warnings;
     * Artery then runs on mutual TLS and the HTTP endpoint asks for the control token whenever they are configured.
     */
    public static CoordinatorNode start(Config config, CoordinatorSettings settings, Path runDir) {
        SecuritySettings securitySettings = SecuritySettings.from(config);
        NodeSecurity security = NodeSecurity.open(securitySettings, List.of(
                new Binding("clmr.coordinator.cluster.host", settings.clusterHost()),
                new Binding("clmr.coordinator.http.host", settings.httpHost())));
        security.warnings().forEach(LOG::warn);
        Optional<SSLContext> https = HttpTls.serverContext(settings.httpTls(), security, CoordinatorSettings.HTTP_TLS_KEY);
        RunFiles.privateRunDirectory(runDir);
        CoordinatorMetrics metrics = new CoordinatorMetrics(Clock.systemUTC());
        metrics.recovery().mark("node start");
        RunSpec spec = RunSpec.from(config);
        String url = settings.database().jdbcUrl(runDir);
        RunDirLock lock = RunDirLock.acquire(runDir, settings.seedNodes());
        JdbcCheckpointStore store;
        ActorSystem<Void> system;
        try {
            if (lock != null && settings.database().url().isEmpty()) {
                RunDirLock.requireH2Closed(runDir, url);
            }
            PortCheck.requireFree(settings.clusterHost(), settings.clusterPort(), "clmr.coordinator.cluster.port",
                    "the cluster port");
            PortCheck.requireFree(settings.httpHost(), settings.httpPort(), "clmr.coordinator.http.port",
                    "the HTTP port (status, metrics, control)");
            Connection held = JournalSchema.prepare(settings.database(), url);
            try {
                RunFiles.privateDatabase(runDir, settings.database());
                store = JdbcCheckpointStore.open(url, settings.database().user(), settings.database().password(),
                        settings.database().poolSize());
            } finally {
                JournalSchema.release(held);
            }
            metrics.recovery().mark("database ready");
        } catch (RuntimeException e) {
            closeQuietly(lock);
            throw e;
        }
        try {
            system = ActorSystem.create(Behaviors.empty(), "clmr",
                    akkaConfig(settings, url, security.akkaSettings()).withFallback(config));
        } catch (RuntimeException e) {
            store.close();
            closeQuietly(lock);
            throw bindFailure(e, settings);
        }
        metrics.recovery().mark("actor system started");
        DowningLog.start(system);
        if (lock != null) {
            lock.announce(Cluster.get(system).selfMember().address().toString());
        }
        Cluster cluster = Cluster.get(system);
        akka.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> metrics.recovery().mark("cluster up"));
        if (settings.seedNodes().isEmpty()) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        }
        CoordinatorSettings.HandoffSettings h = settings.handoff();
        system.systemActorOf(CheckpointReceiver.create(store, h.maxBytes(), h.maxTransfers(), h.idleTimeout()),
                "checkpoint-handoff", Props.empty());
        ProgressLog stepLog = ProgressLog.in(runDir, metrics.registry());
        JournalHealth journal = new JournalHealth(settings.database().url().isEmpty() ? runDir.toAbsolutePath() : null);
        Behavior<ToCoordinator> behavior = Behaviors.<ToCoordinator>supervise(Behaviors.setup(ctx -> {
            system.receptionist().tell(Receptionist.register(CoordinatorProtocol.SERVICE_KEY, ctx.getSelf()));
            return Coordinator.create(settings, store, metrics, Clock.systemUTC(), stepLog, journal);
        })).onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
        ActorRef<ToCoordinator> proxy = ClusterSingleton.get(system).init(
                SingletonActor.of(behavior, CoordinatorProtocol.SINGLETON_NAME)
                        .withSettings(ClusterSingletonSettings.create(system).withRole(CoordinatorProtocol.COORDINATOR_ROLE)));
        StatusHttpServer http;
        try {
            http = StatusHttpServer.start(settings.httpHost(), settings.httpPort(), system, proxy, metrics.registry(),
                    spec, settings.askTimeout(), HttpGuard.of(security, securitySettings.controlToken()), https,
                    last -> journal.pausing().map(f -> StatusView.pausedBy(last, f.why())));
        } catch (RuntimeException e) {
            system.terminate();
            store.close();
            closeQuietly(lock);
            throw e;
        }
        // once, whichever comes first: the system's termination (downed, shut down) or close(), which waits for it
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                http.close();
                store.close();
                stepLog.close();
                closeQuietly(lock);
            }
        };
        system.getWhenTerminated().whenComplete((done, err) -> release.run());
        return new CoordinatorNode(system, proxy, store, http, settings, spec, release);
    }

    /**
     * Akka's settings for a coordinator node: cluster, Artery (on mutual TLS when {@code tls} has entries, see
     * {@link NodeSecurity#akkaSettings}), SBR, and akka-persistence-jdbc on this database.
     */
    static Config akkaConfig(CoordinatorSettings s, String url, Map<String, Object> tls) {
        CoordinatorSettings.DatabaseSettings db = s.database();
        Map<String, Object> values = new HashMap<>(ClusterDowning.settings(s.downUnreachableAfter()));
        values.putAll(tls);
        values.putAll(Map.ofEntries(
                Map.entry("akka.actor.provider", "cluster"),
                Map.entry("akka.remote.artery.canonical.hostname", s.clusterHost()),
                Map.entry("akka.remote.artery.canonical.port", s.clusterPort()),
                Map.entry("akka.cluster.roles", List.of(CoordinatorProtocol.COORDINATOR_ROLE)),
                Map.entry("akka.cluster.seed-nodes", s.seedNodes()),
                Map.entry("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on"),
                Map.entry("akka.coordinated-shutdown.exit-jvm", "off"),
                Map.entry("akka.persistence.journal.plugin", "jdbc-journal"),
                Map.entry("akka.persistence.snapshot-store.plugin", "jdbc-snapshot-store"),
                // the journal's connection pool starts with the node, not when the singleton first recovers
                Map.entry("akka.extensions", List.of("akka.persistence.Persistence")),
                Map.entry("akka.persistence.journal.auto-start-journals", List.of("jdbc-journal")),
                Map.entry("akka.persistence.snapshot-store.auto-start-snapshot-stores", List.of("jdbc-snapshot-store")),
                Map.entry("jdbc-journal.use-shared-db", "slick"),
                Map.entry("jdbc-snapshot-store.use-shared-db", "slick"),
                Map.entry("jdbc-read-journal.use-shared-db", "slick"),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.profile", db.slickProfile()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.url", url),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.user", db.user()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.password", db.password()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.driver", db.driver()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.numThreads", db.poolSize()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.maxConnections", db.poolSize()),
                Map.entry("akka-persistence-jdbc.shared-databases.slick.db.minConnections", 1)));
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c;
    }

    private static void closeQuietly(RunDirLock lock) {
        if (lock != null) {
            lock.close();
        }
    }

    private static RuntimeException bindFailure(RuntimeException e, CoordinatorSettings s) {
        Throwable t = e;
        while (t != null) {
            if (t instanceof java.net.BindException) {
                return new UserError("cannot bind the cluster port " + s.clusterHost() + ":" + s.clusterPort()
                        + " (" + t.getMessage() + "): set clmr.coordinator.cluster.port to a free port");
            }
            t = t.getCause();
        }
        return e;
    }

    /** The actor system (cluster node). */
    public ActorSystem<Void> system() {
        return system;
    }

    /** The singleton proxy: messages reach the coordinator wherever it runs. */
    public ActorRef<ToCoordinator> coordinator() {
        return coordinator;
    }

    /** This node's cluster address. */
    public Address address() {
        return Cluster.get(system).selfMember().address();
    }

    /** The port of the HTTP endpoint. */
    public int httpPort() {
        return http.port();
    }

    /** The HTTP endpoint's base URL, {@code http://HOST:PORT} or {@code https://HOST:PORT}. */
    public String httpUrl() {
        return HttpTls.scheme(settings.httpTls()) + "://" + settings.httpHost() + ":" + http.port();
    }

    /** The checkpoint store in the coordinator's database. */
    public CheckpointStore checkpointStore() {
        return store;
    }

    /** The RunSpec of this node's configuration (what {@code POST /control/start} starts). */
    public RunSpec spec() {
        return spec;
    }

    /** The settings this node runs with. */
    public CoordinatorSettings settings() {
        return settings;
    }

    /** Asks the coordinator and waits for the answer. */
    public <R> R ask(Function<ActorRef<R>, ToCoordinator> message) {
        CompletionStage<R> answer = AskPattern.ask(coordinator, message::apply, settings.askTimeout(), system.scheduler());
        try {
            return answer.toCompletableFuture().get(settings.askTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while asking the coordinator");
        } catch (ExecutionException | TimeoutException e) {
            throw new UserError("the coordinator did not answer within " + settings.askTimeout()
                    + " (is a coordinator node up and the singleton started?): " + e.getMessage());
        }
    }

    /** Completes when the node has stopped. */
    public CompletionStage<?> whenTerminated() {
        return system.getWhenTerminated();
    }

    /** Leaves the cluster (the singleton moves to another coordinator node, if any) and stops. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("coordinator node did not stop within 60 s", e);
        }
        // the run dir's lock is free when close returns, so a node started next in this JVM may take it
        release.run();
    }
}
