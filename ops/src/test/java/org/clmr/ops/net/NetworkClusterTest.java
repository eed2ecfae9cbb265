package org.clmr.ops.net;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.ops.net.NetCluster.StepLine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A secured cluster across a real network ({@link NetworkHosts}): the coordinator on h0 and one worker per host on
 * h1..h3, over veth links with MTU 1500, on the deployment's security (mutual TLS, the control token). One coordinator
 * serves every scenario, each a run of its own on the same prepared dataset; a run is long (many epochs) and stopped
 * over the control plane once the scenario has seen what it needs. Scenarios: three hosts on a clean network train
 * a one-host run's losses with equal fingerprints; 1% of the packets dropped on every link (both ways) loses and
 * repeats no step, keeps the fingerprints equal, and costs the throughput it prints; a worker host cut off for 30 s
 * leaves the others training, trains nothing alone, and rejoins with the members' state once back; UDP dropped one
 * way between two worker hosts (Akka fine) evicts the silent sender and the run goes on; a worker on a link narrower
 * than its Aeron MTU refuses to start in one line naming the setting and the largest MTU that works; the
 * coordinator's host cut off for 20 s loses and repeats no step, forms one cluster again with no operator, and every
 * node logs what the downing did as it saw it. Each prints its figures on a {@code network:} line (surefire's output
 * file).
 *
 * <p>Not tested: delayed and reordered packets. They need {@code tc netem}, and the kernel of the machine these tests
 * were written on has no {@code sch_netem}; loss is made with nftables instead, which needs no qdisc.
 */
@Timeout(value = 480, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    /** How long steps are counted for a throughput figure. */
    private static final Duration THROUGHPUT_WINDOW = Duration.ofSeconds(8);
    /** Steps compared with the reference (steps 1-2 to 1e-5 relative, the rest to Adam's rounding). */
    private static final int COMPARED = 4;
    private static final List<String> COMMON = List.of("--set", "run.model.preset=tiny",
            "--set", "run.model.projection-dim=16", "--set", "run.global-batch=6", "--set", "run.epochs=500",
            "--set", "run.checkpoint.every-steps=10", "--set", "worker.threads=1",
            // as in ElasticClusterTest: Adam's epsilon large enough that rounding noise in near-zero gradient
            // components does not become lr-sized weight changes, so losses are compared at the step's exactness
            "--set", "run.optimizer.epsilon=1e-6",
            // every worker of a scenario registers before the first generation forms, even on a loaded machine
            "--set", "coordinator.formation-delay=10s",
            "--set", "coordinator.cluster.down-unreachable-after=3s",
            "--set", "worker.cluster.down-unreachable-after=3s",
            "--set", "worker.cluster.repeat-interval=500ms");

    private static NetworkHosts hosts;
    private static NetCluster cluster;
    private static Path dir;
    private static String hash;
    private static int items;
    private final List<Process> workers = new ArrayList<>();

    @BeforeAll
    static void buildTheNetworkAndStartTheCoordinator() throws Exception {
        String why = NetworkHosts.unavailable();
        Assumptions.assumeTrue(why == null, "network-namespace cluster tests skipped: " + why);
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-net-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 24, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        hosts = NetworkHosts.create(4);
        cluster = new NetCluster(hosts, dir, dataset, COMMON);
        cluster.startCoordinator();
    }

    /** A failed scenario leaves no run going and no worker behind to disturb the next one. */
    @AfterEach
    void stopWhatIsLeft() throws Exception {
        JsonNode s = cluster.status();
        if (s != null && s.get("phase").asText().equals("RUNNING")) {
            cluster.control("stop");
        }
        for (Process p : workers) {
            p.destroyForcibly();
        }
        workers.clear();
    }

    @AfterAll
    static void removeTheNetwork() {
        if (hosts != null) {
            hosts.close();
        }
    }

    @Test
    @Order(1)
    void shouldTrainTheOneHostLossesWithEqualFingerprintsOnThreeWorkerHosts() throws Exception {
        Process one = cluster.startWorker(1, "one-h1");
        workers.add(one);
        start("one");
        List<StepLine> reference = firstSteps("one-h1", one, COMPARED);
        stop(List.of(one));
        workers.clear();
        List<Process> ws = startWorkers("three");
        start("three");
        List<List<StepLine>> lines = new ArrayList<>();
        for (int k = 1; k <= 3; k++) {
            lines.add(firstSteps("three-h" + k, ws.get(k - 1), COMPARED));
        }
        stop(ws);
        for (int k = 2; k <= 3; k++) {
            assertEquals(lines.get(0), lines.get(k - 1), "h1 and h" + k + " report the same losses and fingerprints");
        }
        for (StepLine s : lines.get(0)) {
            double ref = reference.get((int) s.step() - 1).loss();
            double tolerance = s.step() <= 2 ? 1e-5 : 1e-4;
            assertTrue(Math.abs(s.loss() - ref) <= tolerance * Math.abs(ref),
                    "step " + s.step() + ": loss " + s.loss() + " on three hosts, " + ref + " on one");
        }
    }

    @Test
    @Order(2)
    void shouldLoseNoStepWithEqualFingerprintsWhenEveryLinkDropsOnePercent() throws Exception {
        List<Process> ws = startWorkers("loss");
        start("loss");
        JsonNode before = cluster.awaitStatus("three members training", WAIT, NetworkClusterTest::allThreeTrain);
        long generation = before.get("generation").asLong();
        // the first steps run cold (JIT, first epoch): wait them out, then count clean and lossy windows in the
        // order clean, lossy, lossy, clean, so that a steady drift (warming up, the machine's other load) falls on
        // both alike; the run is stopped under loss
        stepsPerSecond(THROUGHPUT_WINDOW);
        List<Double> clean = new ArrayList<>();
        List<Double> lossy = new ArrayList<>();
        long dropped = 0;
        try {
            clean.add(stepsPerSecond(THROUGHPUT_WINDOW));
            loseOnePercentEverywhere(true);
            lossy.add(stepsPerSecond(THROUGHPUT_WINDOW));
            lossy.add(stepsPerSecond(THROUGHPUT_WINDOW));
            dropped += loseOnePercentEverywhere(false);
            clean.add(stepsPerSecond(THROUGHPUT_WINDOW));
            loseOnePercentEverywhere(true);
            JsonNode after = cluster.status();
            assertTrue(after != null && after.get("generation").asLong() == generation,
                    "1% loss cost a member (generation " + generation + " then " + after + "); logs in " + dir);
            stop(ws);
        } finally {
            dropped += loseOnePercentEverywhere(false);
        }
        assertTrue(dropped > 0, "the loss dropped no packet");
        List<Long> steps = everyStepOnceWithEqualWeights("loss");
        double c = (clean.get(0) + clean.get(1)) / 2;
        double l = (lossy.get(0) + lossy.get(1)) / 2;
        System.out.printf(Locale.ROOT, "network: 1%% loss on every link, both ways: %.2f steps/s, clean %.2f (%.0f%%;"
                + " %d s windows clean %s, lossy %s, in one run; %d packets dropped); steps 1..%d each once, equal"
                + " weights%n", l, c, 100 * l / c, THROUGHPUT_WINDOW.toSeconds(), rounded(clean), rounded(lossy),
                dropped, steps.get(steps.size() - 1));
    }

    /** Puts 1% loss on every host's link, or removes it; returns how many packets were dropped. */
    private static long loseOnePercentEverywhere(boolean on) throws Exception {
        long dropped = 0;
        for (int k = 0; k < 4; k++) {
            if (on) {
                hosts.lose(k, 1);
            } else {
                dropped += hosts.loseNothing(k);
            }
        }
        return dropped;
    }

    private static List<String> rounded(List<Double> xs) {
        return xs.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList();
    }

    @Test
    @Order(3)
    void shouldGoOnWithoutACutWorkerHostThatTrainsNothingAloneAndRejoinsWhenBack() throws Exception {
        List<Process> ws = startWorkers("cut");
        start("cut");
        JsonNode before = cluster.awaitStatus("three members training", WAIT, NetworkClusterTest::allThreeTrain);
        long generation = before.get("generation").asLong();
        long cutAt = System.nanoTime();
        hosts.cut(3);
        int linesAtCut = cluster.steps("cut-h3").size();
        JsonNode after = cluster.awaitStatus("the two others training on", WAIT,
                s -> s.get("generation").asLong() > generation && s.get("members").size() == 2
                        && s.get("step").asLong() > before.get("step").asLong() + 2);
        double recovered = (System.nanoTime() - cutAt) / 1e9;
        Thread.sleep(Math.max(0, Duration.ofSeconds(30).toNanos() - (System.nanoTime() - cutAt)) / 1_000_000);
        List<StepLine> whileCut = cluster.steps("cut-h3");
        hosts.heal(3);
        long healedAt = System.nanoTime();
        assertTrue(whileCut.size() <= linesAtCut + 1, "the cut worker trained on alone: "
                + whileCut.subList(linesAtCut, whileCut.size()));
        assertTrue(whileCut.stream().allMatch(s -> s.generation() == generation),
                "the cut worker trained in a generation of its own: " + whileCut);
        JsonNode back = cluster.awaitStatus("the cut worker back among the members", WAIT,
                s -> s.get("members").size() == 3 && s.get("generation").asLong() > after.get("generation").asLong());
        StepLine rejoined = awaitStepAfter("cut-h3", back.get("generation").asLong(), ws.get(2));
        double rejoinedAfter = (System.nanoTime() - healedAt) / 1e9;
        StepLine same = awaitSameStep("cut-h1", rejoined, ws.get(0));
        assertEquals(same.fingerprint(), rejoined.fingerprint(), "the rejoined worker's weights after " + rejoined);
        stop(ws);
        System.out.printf(Locale.ROOT, "network: worker host cut: others training again %.1f s after the cut;"
                + " cut worker training again %.1f s after the link came back%n", recovered, rejoinedAfter);
    }

    @Test
    @Order(4)
    void shouldEvictTheWorkerWhoseDatagramsAreDroppedAndGoOnWhenOnlyTheDataPlaneIsCut() throws Exception {
        List<Process> ws = startWorkers("udp");
        start("udp");
        JsonNode before = cluster.awaitStatus("three members training", WAIT, NetworkClusterTest::allThreeTrain);
        long generation = before.get("generation").asLong();
        String sender = memberOn(before, 1);
        int senderRank = rankOf(before, sender);
        long droppedAt = System.nanoTime();
        hosts.dropUdp(1, 2);
        JsonNode after = cluster.awaitStatus("a generation without the silent sender", WAIT,
                s -> s.get("generation").asLong() > generation && s.get("members").size() == 2);
        double evictedAfter = (System.nanoTime() - droppedAt) / 1e9;
        List<String> left = new ArrayList<>();
        after.get("members").forEach(m -> left.add(m.get("workerId").asText()));
        assertEquals(List.of(memberOn(before, 2), memberOn(before, 3)).stream().sorted().toList(),
                left.stream().sorted().toList(), "the jury evicted " + sender + " (h1, whose datagrams to h2 are"
                        + " dropped) and kept the others; logs in " + dir);
        String report = NetCluster.await(cluster.log("udp-h2"), Pattern.compile("silent ranks (\\[[\\d, ]*])"),
                ws.get(1)).group(1);
        assertTrue(report.matches(".*\\b" + senderRank + "\\b.*"), "h2 named the silent rank " + senderRank
                + ": " + report);
        assertTrue(evictedAfter < 30 + 20, "evicted " + evictedAfter + " s after the drop: past the op deadline");
        long stepAfter = after.get("step").asLong();
        cluster.awaitStatus("the run going on without it", WAIT, s -> s.get("step").asLong() >= stepAfter + 2);
        hosts.allowUdp(1);
        stop(List.of(ws.get(1), ws.get(2)));
        System.out.printf(Locale.ROOT, "network: one-way UDP drop h1->h2: %s evicted, next generation formed %.1f s"
                + " after the drop%n", sender, evictedAfter);
    }

    @Test
    @Order(5)
    void shouldRefuseToStartAWorkerOnALinkNarrowerThanItsAeronMtuInOneLine() throws Exception {
        hosts.mtu(3, 1200);
        try {
            Process p = cluster.launchWorker(3, "mtu-h3");
            workers.add(p);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the worker on the narrow link did not stop");
            assertEquals(Clmr.EXIT_USAGE, p.exitValue(), Files.readString(cluster.log("mtu-h3")));
            List<String> lines = Files.readAllLines(cluster.log("mtu-h3")).stream()
                    .filter(l -> l.contains("clmr.worker.aeron.mtu")).toList();
            assertEquals(1, lines.size(), "one line about the MTU: " + lines);
            assertTrue(lines.get(0).contains("clmr.worker.aeron.mtu = 1408 is invalid")
                    && lines.get(0).contains("MTU 1200") && lines.get(0).contains("largest that works is 1152"),
                    lines.get(0));
        } finally {
            hosts.mtu(3, NetworkHosts.MTU);
        }
    }

    @Test
    @Order(6)
    void shouldLoseNoStepAndFormOneClusterAgainWhenTheCoordinatorHostIsCutOff() throws Exception {
        List<Process> ws = startWorkers("coord");
        start("coord");
        JsonNode before = cluster.awaitStatus("three members training", WAIT, NetworkClusterTest::allThreeTrain);
        long generation = before.get("generation").asLong();
        List<String> nodes = List.of("coordinator", "coord-h1", "coord-h2", "coord-h3");
        Map<String, Integer> linesBefore = new TreeMap<>();
        for (String n : nodes) {
            linesBefore.put(n, Files.readAllLines(cluster.log(n)).size());
        }
        hosts.cut(0);
        Thread.sleep(Duration.ofSeconds(20).toMillis());
        hosts.heal(0);
        long healedAt = System.nanoTime();
        JsonNode back = cluster.awaitStatus("the three workers training with the coordinator again", WAIT,
                s -> s.get("generation").asLong() > generation && allThreeTrain(s));
        double trainingAfter = (System.nanoTime() - healedAt) / 1e9;
        long stepBack = back.get("step").asLong();
        cluster.awaitStatus("two more steps", WAIT, s -> s.get("step").asLong() >= stepBack + 2);
        stop(ws);
        List<Long> steps = everyStepOnceWithEqualWeights("coord");
        Map<String, String> downing = new TreeMap<>();
        for (String n : nodes) {
            List<String> lines = Files.readAllLines(cluster.log(n));
            String seen = String.join("\n", lines.subList(linesBefore.get(n), lines.size()).stream()
                    .filter(l -> l.contains("cluster downing seen from")).toList());
            assertFalse(seen.isEmpty(), n + " logged no downing line during the cut; logs in " + dir);
            downing.put(n, seen);
        }
        String kept = downing.get("coordinator");
        assertTrue(kept.contains("this node stays up") && !kept.contains("this node was downed"),
                "the coordinator's side stays (keep-oldest): " + kept);
        for (int k = 1; k <= 3; k++) {
            assertTrue(kept.contains("@" + hosts.address(k) + ":"), "the coordinator downed h" + k + ": " + kept);
            String w = downing.get("coord-h" + k);
            assertTrue(w.contains("this node was downed"), "h" + k + "'s side is downed (keep-oldest): " + w);
        }
        System.out.printf(Locale.ROOT, "network: coordinator host cut 20 s: three workers training with it again"
                + " %.1f s after the link came back; steps %d..%d each once; coordinator: %s%n", trainingAfter,
                steps.get(0), steps.get(steps.size() - 1), kept.substring(kept.indexOf("cluster downing")));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Checks the step lines of workers NAME-h1..h3: each worker's steps rise, every step from the first to the last
     * was trained, and all who trained a step report the same weights after it; returns the steps in order.
     */
    private static List<Long> everyStepOnceWithEqualWeights(String name) throws Exception {
        Map<Long, StepLine> byStep = new TreeMap<>();
        for (int k = 1; k <= 3; k++) {
            long last = 0;
            for (StepLine s : cluster.steps(name + "-h" + k)) {
                assertTrue(s.step() > last, "h" + k + " trained step " + s.step() + " again after step " + last);
                last = s.step();
                StepLine other = byStep.putIfAbsent(s.step(), s);
                assertTrue(other == null || other.fingerprint().equals(s.fingerprint()),
                        "two different weights after step " + s.step() + ": " + other + ", " + s);
            }
        }
        List<Long> steps = new ArrayList<>(byStep.keySet());
        assertTrue(!steps.isEmpty() && steps.get(0) == 1, "the run's steps start at 1: " + steps);
        for (int i = 1; i < steps.size(); i++) {
            assertEquals(steps.get(i - 1) + 1, steps.get(i), "a step was lost: " + steps);
        }
        return steps;
    }

    /** Steps per second the coordinator's status reports over {@code window}. */
    private static double stepsPerSecond(Duration window) throws Exception {
        JsonNode first = cluster.awaitStatus("a status", WAIT, s -> true);
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        JsonNode last = cluster.awaitStatus("a status", WAIT, s -> true);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return (last.get("step").asLong() - first.get("step").asLong()) / seconds;
    }

    /** Three members, each of which has reported steps of the current generation. */
    private static boolean allThreeTrain(JsonNode status) {
        JsonNode members = status.get("members");
        if (members.size() != 3) {
            return false;
        }
        for (JsonNode m : members) {
            if (m.get("step").asLong() < 2) {
                return false;
            }
        }
        return true;
    }

    /** The worker id of the member on host {@code k}. */
    private static String memberOn(JsonNode status, int k) {
        for (JsonNode m : status.get("members")) {
            if (m.get("workerId").asText().startsWith(hosts.address(k) + "/")) {
                return m.get("workerId").asText();
            }
        }
        throw new AssertionError("no member on h" + k + " (" + hosts.address(k) + "): " + status);
    }

    private static int rankOf(JsonNode status, String workerId) {
        JsonNode members = status.get("members");
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).get("workerId").asText().equals(workerId)) {
                return i;
            }
        }
        throw new AssertionError(workerId + " is no member: " + status);
    }

    /** A worker on each of h1..h3, logging to NAME-hK.log. */
    private List<Process> startWorkers(String name) throws Exception {
        // started together and awaited in turn: three workers were up ~12 s after launch at load ~14 on 2 cores,
        // ~40 s when each waited for the one before
        for (int k = 1; k <= 3; k++) {
            workers.add(cluster.launchWorker(k, name + "-h" + k));
        }
        for (int k = 1; k <= 3; k++) {
            NetCluster.await(cluster.log(name + "-h" + k), NetCluster.WORKER_UP, workers.get(k - 1));
        }
        return List.copyOf(workers);
    }

    private static void start(String run) throws Exception {
        cluster.control("start?run-id=" + run + "&dataset-hash=" + hash + "&tracks=" + items);
    }

    /** Stops the run over the control plane; every worker leaves and exits 0. */
    private static void stop(List<Process> workers) throws Exception {
        cluster.control("stop");
        for (Process p : workers) {
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "a worker did not stop with the run");
            assertEquals(0, p.exitValue(), "a worker's exit status; logs in " + dir);
        }
        cluster.awaitStatus("the run stopped", WAIT, s -> !s.get("phase").asText().equals("RUNNING"));
    }

    /** The last report of each of steps 1..n in worker {@code name}'s log, once it has reported step n. */
    private static List<StepLine> firstSteps(String name, Process p, int n) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            TreeMap<Long, StepLine> byStep = new TreeMap<>();
            for (StepLine s : cluster.steps(name)) {
                if (s.step() <= n) {
                    byStep.put(s.step(), new StepLine(0, 0, s.step(), s.loss(), s.fingerprint()));
                }
            }
            if (byStep.size() == n) {
                return new ArrayList<>(byStep.values());
            }
            assertTrue(p.isAlive(), name + " exited before step " + n + "; logs in " + dir);
            Thread.sleep(250);
        }
        throw new AssertionError(name + " did not report steps 1.." + n + " within " + WAIT.toSeconds() + " s");
    }

    private static StepLine awaitStepAfter(String name, long generation, Process p) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (StepLine s : cluster.steps(name)) {
                if (s.generation() >= generation) {
                    return s;
                }
            }
            assertTrue(p.isAlive(), name + " exited; logs in " + dir);
            Thread.sleep(250);
        }
        throw new AssertionError(name + " trained no step in generation " + generation + "; logs in " + dir);
    }

    private static StepLine awaitSameStep(String name, StepLine of, Process p) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (StepLine s : cluster.steps(name)) {
                if (s.generation() == of.generation() && s.step() == of.step()) {
                    return s;
                }
            }
            assertTrue(p.isAlive(), name + " exited; logs in " + dir);
            Thread.sleep(250);
        }
        throw new AssertionError(name + " did not report " + of + "; logs in " + dir);
    }
}
