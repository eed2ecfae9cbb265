package org.clmr.ops.cluster;

import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.ClusterSingletonSettings;
import akka.cluster.typed.SingletonActor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.ClusterDowning;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.security.ArteryTls;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.PrivateFiles;
import org.clmr.protocol.security.ThrowawayKeys;
import org.clmr.protocol.security.TlsSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A secured cluster of real processes, as `clmr train --workers` runs it (throw-away keys in the run directory): a
 * coordinator JVM (H2 with a password from the environment) and a worker JVM training the tiny preset, watched from
 * this JVM by a node that holds the run's certificate. Nobody without a certificate of the run CA gets in: a node on
 * plain TCP and a node with another CA's certificate never become members. The control plane answers 401 without the
 * token and changes nothing; with {@code protect-reads} on, so do the coordinator's and the worker's reads. A run id
 * or worker id that would forge a log line, and an absurd track count, get 400 with one line. A node with the run's certificate that registers under the live worker's id is refused,
 * and the worker trains on. Checkpoints reach the coordinator over the cluster; the run directory, the database, the
 * keys and the Aeron directory are private; and no log line of any process carries the token or the password.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecureClusterTest {
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\d.]+:\\d+) up");
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Duration ROGUES_WATCHED_FOR = Duration.ofSeconds(15);
    private static final String DB_PASSWORD = "db-pw-" + Long.toHexString(System.nanoTime()) + "-never-logged";
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> COMMON = List.of("--set", "run.model.preset=tiny",
            "--set", "run.model.projection-dim=16", "--set", "run.global-batch=4", "--set", "run.epochs=200",
            "--set", "run.checkpoint.every-steps=2", "--set", "worker.threads=1",
            "--set", "coordinator.plan-steps=4", "--set", "coordinator.formation-delay=0s",
            "--set", "security.protect-reads=on");
    private static final Pattern WORKER_METRICS = Pattern.compile("metrics: (http://[\\d.]+:\\d+/metrics)");

    private static Path dir;
    private static Path runDir;
    private static String datasetHash;
    private static ClusterKeys keys;
    private static Process coordinator;
    private static Process worker;
    private static String seed;
    private static String http;
    private static String workerMetrics;
    private static final List<Process> ALL = new ArrayList<>();
    private static final List<ActorSystem<?>> SYSTEMS = new ArrayList<>();
    private static ActorSystem<Void> observer;

    @BeforeAll
    static void startASecuredCluster() throws Exception {
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-secure-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 24, 3, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        int items;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            datasetHash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        runDir = dir.resolve("run");
        keys = ClusterKeys.in(runDir);
        Path conf = dir.resolve("secure.conf");
        Files.writeString(conf, "clmr.coordinator.database.password = ${?CLMR_DB_PASSWORD}\n");
        List<String> c = new ArrayList<>(List.of("coordinator", "--config", conf.toString(), "--run-dir",
                runDir.toString(), "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0"));
        c.addAll(COMMON);
        c.addAll(keys.args());
        Path coordinatorLog = dir.resolve("coordinator.log");
        coordinator = JavaProcess.of(Clmr.class).args(c).env("CLMR_DB_PASSWORD", DB_PASSWORD).maxHeap("512m")
                .output(coordinatorLog).start();
        ALL.add(coordinator);
        seed = ClusterLogs.awaitValue(coordinatorLog, NODE, coordinator, WAIT);
        http = ClusterLogs.awaitValue(coordinatorLog, ClusterLogs.HTTP, coordinator, WAIT);
        List<String> w = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString(),
                "--set", "worker.cluster.repeat-interval=500ms"));
        w.addAll(COMMON);
        w.addAll(keys.args());
        worker = JavaProcess.of(Clmr.class).args(w).maxHeap("768m").output(dir.resolve("worker.log")).start();
        ALL.add(worker);
        ClusterLogs.awaitValue(dir.resolve("worker.log"), Pattern.compile("worker \\S+ up: aeron"), worker, WAIT);
        workerMetrics = ClusterLogs.awaitValue(dir.resolve("worker.log"), WORKER_METRICS, worker, WAIT);
        assertEquals(200, post("/control/start?run-id=secure&dataset-hash=" + datasetHash + "&tracks=" + items,
                keys.keys().token()).statusCode());
        awaitStatus("the worker training", s -> s.get("members").size() == 1 && s.get("step").asLong() > 0);
        observer = start("observer", ArteryTls.akkaSettings(pem(keys.keys().keyDir())));
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (ActorSystem<?> s : SYSTEMS) {
            s.terminate();
        }
        for (Process p : ALL) {
            p.destroyForcibly();
        }
        for (ActorSystem<?> s : SYSTEMS) {
            s.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(1)
    void shouldNeverAdmitANodeWithoutACertificateOfTheRunCa() throws Exception {
        ThrowawayKeys otherCa = ThrowawayKeys.inRunDir(dir.resolve("other-run"));
        ActorSystem<Void> plain = start("plain-tcp", ArteryTls.akkaSettings(new TlsSettings.None()));
        ActorSystem<Void> foreign = start("other-ca", ArteryTls.akkaSettings(pem(otherCa.keyDir())));
        long until = System.nanoTime() + ROGUES_WATCHED_FOR.toNanos();
        while (System.nanoTime() < until) {
            Set<Address> members = members(observer);
            for (ActorSystem<Void> rogue : List.of(plain, foreign)) {
                assertFalse(members.contains(address(rogue)), rogue.name() + " became a member: " + members);
                assertNotEquals(MemberStatus.up(), Cluster.get(rogue).selfMember().status(), rogue.name() + " is up");
            }
            Thread.sleep(250);
        }
        assertTrue(members(observer).contains(address(observer)), "a node with the run's certificate is a member");
        assertTrue(coordinator.isAlive() && worker.isAlive(), "the rogues ended no process");
        // the rogues knocked every 2 s, and the coordinator said so once (later refusals: once a minute, counted)
        List<String> refusals = Files.readAllLines(dir.resolve("coordinator.log")).stream()
                .filter(l -> l.contains("TLS connection(s) to this node's cluster port")).toList();
        assertEquals(1, refusals.size(), "the coordinator's lines on refused TLS connections: " + refusals);
        plain.terminate();
        foreign.terminate();
    }

    @Test
    @Order(2)
    void shouldAnswer401WithoutTheTokenAndChangeNothing() throws Exception {
        String phase = status().get("phase").asText();
        assertEquals("RUNNING", phase);
        for (ControlToken presented : new ControlToken[] {null, ControlToken.generate()}) {
            for (String action : List.of("/control/stop", "/control/pause", "/control/drain?worker=x")) {
                HttpResponse<String> r = post(action, presented);
                assertEquals(401, r.statusCode(), action + ": " + r.body());
                assertEquals(1, r.body().strip().lines().count(), r.body());
            }
        }
        // protect-reads = on: the coordinator's and the worker's reads need the token too
        for (String read : List.of("http://" + http + "/status", "http://" + http + "/metrics", workerMetrics)) {
            assertEquals(401, get(read, null).statusCode(), read);
            assertEquals(401, get(read, ControlToken.generate()).statusCode(), read);
            assertEquals(200, get(read, keys.keys().token()).statusCode(), read);
        }
        StringWriter err = new StringWriter();
        int code = Clmr.commandLine().setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
                .execute("control", "stop", "--coordinator", http);
        assertEquals(1, code, "clmr control without the token");
        assertTrue(err.toString().contains("401"), err.toString());
        long before = status().get("step").asLong();
        awaitStatus("the run going on after the refused requests", s -> s.get("phase").asText().equals("RUNNING")
                && s.get("step").asLong() > before);

        assertEquals(200, post("/control/pause", keys.keys().token()).statusCode());
        awaitStatus("the run paused with the token", s -> s.get("phase").asText().equals("PAUSED"));
        assertEquals(200, post("/control/resume", keys.keys().token()).statusCode());
        awaitStatus("the run resumed", s -> s.get("phase").asText().equals("RUNNING"));
    }

    @Test
    @Order(3)
    void shouldRefuseUntrustedValuesWithOneLineAndNeverLogThem() throws Exception {
        long generation = status().get("generation").asLong();
        for (String bad : List.of("/control/start?run-id=r1%0A00:00:00.000%20INFO%20forged-line&dataset-hash="
                        + datasetHash + "&tracks=10", "/control/start?run-id=r1&dataset-hash=" + datasetHash
                        + "&tracks=9223372036854775807", "/control/start?run-id=" + "r".repeat(65) + "&dataset-hash="
                        + datasetHash + "&tracks=10", "/control/drain?worker=w%0Aforged-line")) {
            HttpResponse<String> r = post(bad, keys.keys().token());
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertEquals(1, r.body().strip().lines().count(), r.body());
            assertFalse(r.body().contains("forged-line"), "the answer repeats the value: " + r.body());
        }
        JsonNode s = awaitStatus("the run unchanged", x -> x.get("phase").asText().equals("RUNNING"));
        assertEquals("secure", s.get("runId").asText(), s.toString());
        assertEquals(generation, s.get("generation").asLong(), "no worker was drained: " + s);
        assertFalse(Files.readString(dir.resolve("coordinator.log")).contains("forged-line"), "a forged log line");
    }

    @Test
    @Order(4)
    void shouldRefuseARegistrationUnderALiveWorkersIdFromAnotherNodeAndKeepTheWorkerTraining() throws Exception {
        JsonNode s = awaitStatus("a member", x -> x.get("members").size() == 1);
        String workerId = s.get("members").get(0).get("workerId").asText();
        long generation = s.get("generation").asLong();
        CompletableFuture<ToWorker> answer = new CompletableFuture<>();
        ActorRef<ToWorker> impostor = observer.systemActorOf(Behaviors.<ToWorker>receiveMessage(m -> {
            answer.complete(m);
            return Behaviors.same();
        }), "impostor", Props.empty());
        ActorRef<ToCoordinator> proxy = ClusterSingleton.get(observer).init(SingletonActor.of(
                Behaviors.<ToCoordinator>ignore(), CoordinatorProtocol.SINGLETON_NAME).withSettings(
                ClusterSingletonSettings.create(observer).withRole(CoordinatorProtocol.COORDINATOR_ROLE)));
        proxy.tell(new Register(BuildInfo.protocolVersion(), workerId, "127.0.0.1", "cpu", "127.0.0.1:1", datasetHash,
                1000, impostor));
        ToWorker reply = answer.get(60, TimeUnit.SECONDS);
        assertTrue(reply instanceof RegisterRefused r && r.reason() == RefusalReason.WORKER_ID_TAKEN, reply.toString());
        long step = status().get("step").asLong();
        JsonNode after = awaitStatus("the real worker training on", x -> x.get("step").asLong() > step + 2);
        assertEquals(generation, after.get("generation").asLong(), "the real worker was not removed: " + after);
        assertEquals(workerId, after.get("members").get(0).get("workerId").asText());
        assertTrue(worker.isAlive());
    }

    @Test
    @Order(5)
    void shouldHandCheckpointsOverTheClusterAndKeepRunFilesPrivate() throws Exception {
        JsonNode s = awaitStatus("a committed checkpoint", x -> !x.get("lastCheckpoint").isNull());
        assertTrue(s.get("lastCheckpoint").get("location").asText().startsWith("jdbc:clmr_checkpoint#secure/"),
                s.toString());
        assertTrue(Files.readString(dir.resolve("coordinator.log")).contains("handed over by"),
                "rank 0 handed the checkpoint to the coordinator over the cluster");
        assertEquals(PrivateFiles.DIRECTORY, Files.getPosixFilePermissions(runDir), "the run directory");
        assertEquals(PrivateFiles.PRIVATE, Files.getPosixFilePermissions(runDir.resolve("coordinator.mv.db")), "H2");
        assertEquals(PrivateFiles.DIRECTORY, Files.getPosixFilePermissions(keys.keys().dir()), "the keys");
        assertEquals(PrivateFiles.PRIVATE, Files.getPosixFilePermissions(keys.keys().tokenFile()), "the token");
        assertEquals(PrivateFiles.PRIVATE, Files.getPosixFilePermissions(keys.keys().keyDir().resolve("tls.key")));
        List<Path> aeron;
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            aeron = shm.filter(p -> p.getFileName().toString().startsWith("clmr-aeron-" + worker.pid() + "-")).toList();
        }
        assertEquals(1, aeron.size(), "the worker's embedded Aeron directory: " + aeron);
        assertEquals(PrivateFiles.DIRECTORY, Files.getPosixFilePermissions(aeron.get(0)), aeron.get(0).toString());
    }

    @Test
    @Order(6)
    void shouldNeverLogTheTokenOrTheDatabasePassword() throws Exception {
        assertEquals(200, post("/control/stop", keys.keys().token()).statusCode());
        assertTrue(worker.waitFor(120, TimeUnit.SECONDS), "the worker stops with the run");
        assertEquals(0, worker.exitValue(), Files.readString(dir.resolve("worker.log")));
        List<Path> logs;
        try (Stream<Path> files = Files.list(dir)) {
            logs = files.filter(p -> p.toString().endsWith(".log")).toList();
        }
        assertEquals(2, logs.size(), logs.toString());
        for (Path log : logs) {
            String text = Files.readString(log);
            assertTrue(text.lines().count() > 20, log + " is too short for the check to mean anything");
            assertFalse(text.contains(keys.token()), log + " carries the control token");
            assertFalse(text.contains(DB_PASSWORD), log + " carries the database password");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static TlsSettings.PemDirectory pem(Path keyDir) {
        return new TlsSettings.PemDirectory(keyDir, Duration.ofMinutes(5));
    }

    /** A node of this JVM that asks to join the coordinator's cluster with the given Artery settings. */
    private static ActorSystem<Void> start(String name, Map<String, Object> tls) {
        Map<String, Object> v = new HashMap<>(ClusterDowning.settings(Duration.ofSeconds(30)));
        v.putAll(tls);
        v.put("akka.actor.provider", "cluster");
        v.put("akka.remote.artery.canonical.hostname", "127.0.0.1");
        v.put("akka.remote.artery.canonical.port", 0);
        v.put("akka.cluster.seed-nodes", List.of("akka://clmr@" + seed));
        v.put("akka.cluster.seed-node-timeout", "2s");
        v.put("akka.cluster.jmx.multi-mbeans-in-same-jvm", "on");
        v.put("akka.coordinated-shutdown.exit-jvm", "off");
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : v.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        Behavior<Void> guardian = Behaviors.empty();
        ActorSystem<Void> system = ActorSystem.create(guardian, "clmr", c.withFallback(ConfigFactory.load()));
        SYSTEMS.add(system);
        return system;
    }

    private static Set<Address> members(ActorSystem<?> system) {
        return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
                .map(Member::address).collect(Collectors.toSet());
    }

    private static Address address(ActorSystem<?> system) {
        return Cluster.get(system).selfMember().address();
    }

    private static HttpResponse<String> post(String path, ControlToken token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(java.net.URI.create("http://" + http + path))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", token.authorization());
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String url, ControlToken token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (token != null) {
            b.header("Authorization", token.authorization());
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode status() throws IOException, InterruptedException {
        return JSON.readTree(get("http://" + http + "/status", keys.keys().token()).body());
    }

    private static JsonNode awaitStatus(String what, java.util.function.Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status();
            if (last.has("phase") && done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no " + what + " within " + WAIT.toSeconds() + " s; last status " + last
                + "; logs in " + dir);
    }
}
