package org.clmr.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.worker.actor.WorkerActor;
import org.clmr.worker.actor.WorkerNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code clmr worker}: one worker process (one device) of a cluster. It joins the coordinator's cluster,
 * registers, and trains the run's steps it is given until the run ends; one line per step goes to
 * stdout ({@code step generation=G rank=R step=S epoch=E loss=L samples/s=X fingerprint=F}).
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Start a worker process: an Akka Cluster member of role worker that registers with the",
                "coordinator and runs the distributed training step over Aeron on one device."})
public final class WorkerCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--seed-nodes", paramLabel = "HOST:PORT[,HOST:PORT...]", required = true, split = ",",
            description = "Cluster address of the coordinator node(s) (clmr.coordinator.cluster)")
    List<String> seedNodes = new ArrayList<>();

    @Option(names = "--dataset", paramLabel = "DIR", required = true, description = "The run's packed dataset")
    Path dataset;

    @Option(names = "--device", paramLabel = "D", description = "cpu, or cuda:N with the cuda build (clmr.worker.device)")
    String device;

    @Override
    public Integer call() {
        Config config = options.load();
        if (device != null) {
            config = ConfigFactory.parseMap(Map.of("clmr.worker.device", device)).withFallback(config).resolve();
        }
        PrintWriter out = spec.commandLine().getOut();
        WorkerNode node = WorkerNode.start(config, seedNodes, dataset, line -> {
            out.println(String.format(Locale.ROOT,
                    "step generation=%d rank=%d step=%d epoch=%d loss=%.9g samples/s=%.2f fingerprint=%s",
                    line.generation(), line.rank(), line.step(), line.epoch(), line.loss(), line.samplesPerSecond(),
                    line.fingerprint()));
            out.flush();
        });
        WorkerActor.Identity id = node.identity();
        Thread hook = new Thread(node::close, "clmr-worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("worker " + id.workerId() + " up: aeron " + id.aeronEndpoint() + ", dataset " + id.datasetHash()
                + ", seeds " + seedNodes);
        out.flush();
        String failure = node.finished().join();
        Runtime.getRuntime().removeShutdownHook(hook);
        node.close();
        if (failure != null) {
            throw new UserError("worker " + id.workerId() + ": " + failure);
        }
        out.println("worker " + id.workerId() + ": run finished");
        out.flush();
        return 0;
    }
}
