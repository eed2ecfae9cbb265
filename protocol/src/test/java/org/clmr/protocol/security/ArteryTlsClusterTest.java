package org.clmr.protocol.security;

import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.protocol.cluster.ClusterDowning;
import org.clmr.protocol.config.ClmrConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real Akka cluster nodes (typed ActorSystems in one JVM) on Artery tls-tcp with the settings of {@link ArteryTls}:
 * nodes with certificates from the run CA form a cluster, in the PEM mode and the key-store mode alike; a node with a
 * certificate from another CA, a node on plain TCP and a node with no certificate at all never become members.
 * The seed node starts as a clmr node will: configuration, {@link SecuritySettings}, {@link NodeSecurity#open}. All
 * the while every log line is captured: none carries the key stores' password or the control token, though the
 * settings and the token object are logged as a node would log them.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ArteryTlsClusterTest {
    private static final String STORE_PASSWORD = "store-pw-" + Long.toHexString(System.nanoTime()) + "-never-logged";
    private static final Duration JOIN_WITHIN = Duration.ofSeconds(60);
    private static final Duration ROGUES_WATCHED_FOR = Duration.ofSeconds(12);

    @TempDir
    static Path dir;

    private static final List<ActorSystem<Void>> systems = new ArrayList<>();
    private static LogCapture logs;
    private static String token;

    @BeforeAll
    static void captureLogs() {
        logs = new LogCapture();
    }

    @AfterAll
    static void shutDown() throws Exception {
        for (ActorSystem<Void> s : systems) {
            s.terminate();
        }
        for (ActorSystem<Void> s : systems) {
            s.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
        try {
            List<String> lines = logs.lines();
            assertFalse(lines.isEmpty(), "no log line was captured, so the check below would prove nothing");
            for (String line : lines) {
                assertFalse(line.contains(STORE_PASSWORD), "a log line carries the key store's password: " + line);
                assertFalse(token != null && line.contains(token), "a log line carries the control token: " + line);
            }
        } finally {
            logs.close();
        }
    }

    @Test
    void shouldFormAClusterOfRunCaNodesAndNeverAdmitOneWithoutARunCaCertificate() throws Exception {
        CertificateAuthority runCa = TestKeys.ca();
        CertificateAuthority otherCa = TestKeys.ca();
        NodeCertificate shared = TestKeys.node(runCa, "127.0.0.1", "localhost");
        TlsSettings pem = TestKeys.pemDir(shared, dir.resolve("node"));
        ControlToken.generate().write(dir.resolve("control-token"), false);
        token = java.nio.file.Files.readString(dir.resolve("control-token")).strip();
        SecuritySettings settings = SecuritySettings.from(ClmrConfig.load(null, List.of(
                "security.tls.key-dir=" + ConfigUtil.quoteString(dir.resolve("node").toString()),
                "security.control-token.file=" + ConfigUtil.quoteString(dir.resolve("control-token").toString()))));
        NodeSecurity seedSecurity = NodeSecurity.open(settings, List.of(new Binding("clmr.coordinator.cluster.host", "127.0.0.1")));
        LoggerFactory.getLogger(ArteryTlsClusterTest.class).info("seed node: {}, control token {}, stores {}",
                settings, seedSecurity.controlToken().orElseThrow(), SecuritySettings.from(ClmrConfig.load(null, List.of(
                        "security.tls.key-store=/k.p12", "security.tls.trust-store=/t.p12",
                        "security.tls.key-store-password=" + STORE_PASSWORD))));
        TlsSettings stores = TestKeys.keyStores(TestKeys.node(runCa, "127.0.0.1"), dir.resolve("stores"), STORE_PASSWORD);
        TlsSettings foreign = TestKeys.pemDir(TestKeys.node(otherCa, "127.0.0.1", "localhost"), dir.resolve("foreign"));
        TlsSettings noCertificate = TestKeys.trustOnly(runCa, dir.resolve("no-cert"), STORE_PASSWORD);

        ActorSystem<Void> seed = start("seed", seedSecurity.akkaSettings(), List.of());
        Cluster.get(seed).manager().tell(Join.create(address(seed)));
        List<String> seeds = List.of(address(seed).toString());
        ActorSystem<Void> pemMember = start("pem-member", ArteryTls.akkaSettings(pem), seeds);
        ActorSystem<Void> storeMember = start("store-member", ArteryTls.akkaSettings(stores), seeds);
        ActorSystem<Void> otherCaRogue = start("other-ca", ArteryTls.akkaSettings(foreign), seeds);
        ActorSystem<Void> plainRogue = start("plain-tcp", ArteryTls.akkaSettings(new TlsSettings.None()), seeds);
        ActorSystem<Void> certlessRogue = start("no-certificate", ArteryTls.akkaSettings(noCertificate), seeds);
        List<ActorSystem<Void>> rogues = List.of(otherCaRogue, plainRogue, certlessRogue);

        Set<Address> members = Set.of(address(seed), address(pemMember), address(storeMember));
        long deadline = System.nanoTime() + JOIN_WITHIN.toNanos();
        while (!upMembers(seed).equals(members) && System.nanoTime() < deadline) {
            assertNoRogueIn(seed, rogues);
            Thread.sleep(200);
        }
        assertEquals(members, upMembers(seed), "the run CA's nodes (PEM and key-store mode) form the cluster");
        long watchUntil = System.nanoTime() + ROGUES_WATCHED_FOR.toNanos();
        while (System.nanoTime() < watchUntil) {
            assertNoRogueIn(seed, rogues);
            for (ActorSystem<Void> rogue : rogues) {
                assertNotEquals(MemberStatus.up(), Cluster.get(rogue).selfMember().status(), rogue.name() + " is up");
            }
            Thread.sleep(200);
        }
        assertEquals(members, upMembers(pemMember), "a member sees the same cluster");
    }

    private static void assertNoRogueIn(ActorSystem<Void> seed, List<ActorSystem<Void>> rogues) {
        Set<Address> all = StreamSupport.stream(Cluster.get(seed).state().getMembers().spliterator(), false)
                .map(Member::address).collect(Collectors.toSet());
        for (ActorSystem<Void> rogue : rogues) {
            assertFalse(all.contains(address(rogue)), rogue.name() + " became a member: " + all);
        }
    }

    private static Set<Address> upMembers(ActorSystem<Void> system) {
        return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).map(Member::address).collect(Collectors.toSet());
    }

    private static Address address(ActorSystem<Void> system) {
        return Cluster.get(system).selfMember().address();
    }

    private static ActorSystem<Void> start(String name, Map<String, Object> tls, List<String> seedNodes) {
        Map<String, Object> v = new HashMap<>(ClusterDowning.settings(Duration.ofSeconds(30)));
        v.putAll(tls);
        v.put("akka.actor.provider", "cluster");
        v.put("akka.remote.artery.canonical.hostname", "127.0.0.1");
        v.put("akka.remote.artery.canonical.port", 0);
        v.put("akka.cluster.seed-nodes", seedNodes);
        v.put("akka.cluster.seed-node-timeout", "2s");
        v.put("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on");
        v.put("akka.coordinated-shutdown.exit-jvm", "off");
        // every line Akka has, so that a password in any of them would be seen
        v.put("akka.loglevel", "DEBUG");
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : v.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "clmr", c.withFallback(ConfigFactory.load()));
        systems.add(system);
        assertTrue(system.name().equals("clmr"), name);
        return system;
    }
}
