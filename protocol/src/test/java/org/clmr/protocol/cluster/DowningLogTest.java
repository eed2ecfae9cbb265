package org.clmr.protocol.cluster;

import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import akka.cluster.typed.Join;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two real cluster nodes in this JVM (plain Artery on 127.0.0.1): one downs the other, and each logs its line. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DowningLogTest {
    private final List<ActorSystem<Void>> systems = new ArrayList<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(DowningLog.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @AfterEach
    void stop() {
        logger.detachAppender(appender);
        systems.forEach(ActorSystem::terminate);
    }

    @Test
    void shouldLogOneLineOnTheDowningAndOnTheDownedNode() throws Exception {
        appender.start();
        logger.addAppender(appender);
        ActorSystem<Void> coordinator = start(CoordinatorProtocol.COORDINATOR_ROLE, List.of());
        Cluster.get(coordinator).manager().tell(Join.create(address(coordinator)));
        ActorSystem<Void> worker = start("worker", List.of(address(coordinator).toString()));
        awaitTrue(() -> upMembers(coordinator) == 2, "both nodes up");

        Cluster.get(coordinator).manager().tell(new Down(address(worker)));
        worker.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        awaitTrue(() -> lines().size() == 2, "a line on each node: " + lines());

        List<String> lines = lines();
        String kept = lines.stream().filter(l -> l.contains("seen from " + address(coordinator) + " ")).findFirst()
                .orElseThrow();
        assertEquals("cluster downing seen from " + address(coordinator) + " (coordinator): downed ["
                + address(worker) + " (worker, reachable)]; this node stays up", kept);
        String downed = lines.stream().filter(l -> l.contains("seen from " + address(worker) + " ")).findFirst()
                .orElseThrow();
        assertTrue(downed.startsWith("cluster downing seen from " + address(worker) + " (worker): downed [")
                && downed.endsWith("; this node was downed and leaves the cluster"), downed);
        assertTrue(downed.contains(address(worker) + " (worker, reachable)"), downed);
    }

    private List<String> lines() {
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    private static long upMembers(ActorSystem<Void> system) {
        return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).count();
    }

    private static Address address(ActorSystem<Void> system) {
        return Cluster.get(system).selfMember().address();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 30 s: " + what);
            Thread.sleep(100);
        }
    }

    private ActorSystem<Void> start(String role, List<String> seedNodes) {
        Map<String, Object> v = new HashMap<>(ClusterDowning.settings(Duration.ofSeconds(30)));
        v.put("akka.actor.provider", "cluster");
        v.put("akka.remote.artery.canonical.hostname", "127.0.0.1");
        v.put("akka.remote.artery.canonical.port", 0);
        v.put("akka.cluster.roles", List.of(role));
        v.put("akka.cluster.seed-nodes", seedNodes);
        v.put("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on");
        v.put("akka.coordinated-shutdown.exit-jvm", "off");
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : v.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "clmr", c.withFallback(ConfigFactory.load()));
        systems.add(system);
        DowningLog.start(system);
        return system;
    }
}
