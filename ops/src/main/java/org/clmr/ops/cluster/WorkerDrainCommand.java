package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code clmr worker drain --worker ID}: asks the coordinator (its HTTP endpoint) to drain a worker: it
 * leaves at the next plan boundary, the other members going on from that step, and its process exits 0.
 * The same as SIGTERM to the worker's process, from any machine that reaches the coordinator.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = {"Drain a worker: it leaves the run at the next plan boundary.",
                "The others go on from that step (no step lost or repeated) and the worker's",
                "process exits 0. The same as SIGTERM to the worker's process."})
public final class WorkerDrainCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--worker", paramLabel = "ID", required = true,
            description = "The worker's id, as `clmr status` lists it (HOST/DEVICE/PID)")
    String worker;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
            description = "HTTP endpoint of a coordinator node (default: clmr.coordinator.http host and port)")
    String coordinator;

    @Override
    public Integer call() {
        CoordinatorClient client = CoordinatorClient.of(coordinator, options.load());
        JsonNode reply = client.post("/control/drain?worker=" + URLEncoder.encode(worker, StandardCharsets.UTF_8));
        if (!reply.path("accepted").asBoolean(false)) {
            throw new UserError("drain refused: " + reply.path("message").asText());
        }
        spec.commandLine().getOut().println(reply.path("message").asText());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
