package org.clmr.ops.cluster;

import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorNode;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.protocol.security.Redaction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code clmr coordinator}: runs a coordinator node until it is stopped (Ctrl-C / SIGTERM leave the
 * cluster gracefully, so the singleton moves to another coordinator node if there is one).
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = {"Start a coordinator node: an Akka Cluster member of role coordinator hosting the run's",
                "event-sourced coordinator (a Cluster Singleton), with GET /status, GET /metrics and",
                "POST /control/{start,pause,resume,stop,drain} on clmr.coordinator.http. Off loopback it",
                "needs TLS key material and a control token (clmr.security; `clmr keys`)."})
public final class CoordinatorCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--run-dir", paramLabel = "DIR", defaultValue = "clmr-run",
            description = "Directory of the default H2 database (default: ${DEFAULT-VALUE})")
    Path runDir;

    @Override
    public Integer call() {
        Config config = options.load();
        CoordinatorNode node = CoordinatorNode.start(config, runDir);
        AtomicBoolean asked = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            asked.set(true);
            node.close();
        }, "clmr-coordinator-shutdown"));
        PrintWriter out = spec.commandLine().getOut();
        out.println("coordinator node " + node.address() + " up (database "
                + Redaction.redactUrl(node.settings().database().jdbcUrl(runDir)) + ")");
        String target = node.settings().httpTls() ? node.httpUrl() : node.settings().httpHost() + ":" + node.httpPort();
        out.println("status:  " + node.httpUrl() + "/status  (clmr status --coordinator " + target + ")");
        out.println("metrics: " + node.httpUrl() + "/metrics");
        out.flush();
        node.whenTerminated().toCompletableFuture().join();
        if (!asked.get()) {
            throw new UserError("coordinator node " + node.address() + " stopped on its own (downed by the Split Brain "
                    + "Resolver or removed from the cluster); see its log, then start it again");
        }
        return 0;
    }
}
