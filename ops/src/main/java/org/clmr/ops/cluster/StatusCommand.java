package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.ops.ConfigOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code clmr status}: asks a coordinator node's HTTP endpoint for the run's status and prints it. HTTP
 * rather than joining the cluster: instant, no cluster port, works from anywhere that reaches the node.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print the run's status: phase, generation, members with shares and throughput, epoch/step, last checkpoint.")
public final class StatusCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
            description = "HTTP endpoint of a coordinator node (default: clmr.coordinator.http host and port)")
    String coordinator;

    @Option(names = "--json", description = "Print the status as one JSON object")
    boolean json;

    @Override
    public Integer call() {
        JsonNode s = CoordinatorClient.of(coordinator, options.load()).get("/status");
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(s.toString());
        } else {
            print(s, out);
        }
        out.flush();
        return 0;
    }

    static void print(JsonNode s, PrintWriter out) {
        String phase = s.get("phase").asText();
        if (phase.equals("IDLE")) {
            out.println("no run (IDLE): " + s.get("phaseReason").asText());
            return;
        }
        out.printf(Locale.ROOT, "run %s: %s (%s)%n", s.get("runId").asText(), phase, s.get("phaseReason").asText());
        out.printf(Locale.ROOT, "generation %d, epoch %d, step %d of %d (committed %d)%n", s.get("generation").asLong(),
                s.get("epoch").asInt(), s.get("step").asLong(), s.get("totalSteps").asLong(),
                s.get("committedStep").asLong());
        JsonNode ck = s.get("lastCheckpoint");
        if (ck == null || ck.isNull()) {
            out.println("last checkpoint: none");
        } else {
            out.printf(Locale.ROOT, "last checkpoint: step %d, %d bytes, %.0f s ago (%s)%n", ck.get("step").asLong(),
                    ck.get("sizeBytes").asLong(), s.get("checkpointAgeSeconds").asDouble(), ck.get("location").asText());
        }
        out.printf(Locale.ROOT, "%-5s %-24s %-34s %6s %10s %8s %10s%n", "rank", "worker", "device", "share",
                "samples/s", "step", "loss");
        for (JsonNode m : s.get("members")) {
            out.printf(Locale.ROOT, "%-5d %-24s %-34s %6d %10.1f %8s %10s%n", m.get("rank").asInt(),
                    m.get("workerId").asText(), m.get("device").asText(), m.get("share").asInt(),
                    m.get("samplesPerSecond").asDouble(), m.get("step").asLong() < 0 ? "-" : m.get("step").asText(),
                    m.get("loss").isNumber() ? String.format(Locale.ROOT, "%.4f", m.get("loss").asDouble()) : "-");
        }
        if (s.get("pendingWorkers").size() > 0) {
            out.println("joining at the next step boundary: " + s.get("pendingWorkers"));
        }
    }
}
