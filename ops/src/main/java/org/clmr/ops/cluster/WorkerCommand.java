package org.clmr.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.worker.actor.WorkerActor;
import org.clmr.worker.actor.WorkerNode;
import org.clmr.worker.device.DeviceInfo;
import org.clmr.worker.device.Devices;
import org.clmr.worker.train.TrainSettings;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code clmr worker}: a worker process (one device) of a cluster, or with {@code --devices} a supervisor
 * of one worker process per device of this machine ({@link WorkerSupervisor}). A worker joins the
 * coordinator's cluster, registers (with its device's model and memory), and trains the steps it is
 * given until the run ends for it; one line per step goes to stdout
 * ({@code step generation=G rank=R step=S epoch=E loss=L samples/s=X fingerprint=F}). SIGTERM drains it:
 * it leaves at the next plan boundary without the run losing a step, and exits 0; a second SIGTERM stops
 * it at once. {@code clmr worker drain} drains a worker from anywhere through the coordinator.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, subcommands = WorkerDrainCommand.class,
        description = {"Start a worker process: an Akka Cluster member of role worker that",
                "registers with the coordinator and runs the distributed training step over",
                "Aeron on one device; or, with --devices, one such process per device of this",
                "machine. SIGTERM drains a worker (it leaves at the next plan boundary, the",
                "run losing no step); SIGKILL is a failure."})
public final class WorkerCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--seed-nodes", paramLabel = "HOST:PORT[,HOST:PORT...]", split = ",",
            description = "Cluster address of the coordinator node(s) (clmr.coordinator.cluster); required")
    List<String> seedNodes = new ArrayList<>();

    @Option(names = "--dataset", paramLabel = "DIR", description = "The run's packed dataset; required")
    Path dataset;

    @Option(names = "--device", paramLabel = "D", description = "cpu, or cuda:N with the cuda build (clmr.worker.device)")
    String device;

    @Option(names = "--devices", paramLabel = "all|cpu|cuda:N[,cuda:M...]",
            description = "Start one worker process per device and supervise them: all (every GPU of this"
                    + " machine, or the CPU when it has none), cpu, or a list of GPUs")
    String devices;

    @Option(names = "--max-restarts", paramLabel = "N", defaultValue = "3",
            description = "With --devices: restarts of a worker that failed, per device (default: ${DEFAULT-VALUE})")
    int maxRestarts;

    @Override
    public Integer call() {
        if (seedNodes.isEmpty() || dataset == null) {
            throw new SettingsException("clmr worker", "needs --seed-nodes HOST:PORT (the coordinator node's cluster"
                    + " address) and --dataset DIR (the run's packed dataset)");
        }
        if (devices != null) {
            if (device != null) {
                throw new SettingsException("--device", "--device and --devices exclude each other: one device per"
                        + " worker process, or --devices for one process per device");
            }
            if (maxRestarts < 0) {
                throw new SettingsException("--max-restarts", maxRestarts, "0 or more");
            }
            return supervise();
        }
        return runWorker();
    }

    private int supervise() {
        boolean allowTf32 = TrainSettings.from(options.load()).allowTf32();
        PrintWriter out = spec.commandLine().getOut();
        Devices.Detected found = Devices.detect();
        List<DeviceInfo> chosen = Devices.resolve(devices, found);
        if (found.gpus().isEmpty() && devices.trim().equalsIgnoreCase("all")) {
            out.println("no GPU on this machine (" + found.gpuSource() + "): --devices all means the CPU here");
        }
        List<String> common = new ArrayList<>(List.of("--seed-nodes", String.join(",", seedNodes),
                "--dataset", dataset.toAbsolutePath().toString()));
        common.addAll(options.asArgs());
        WorkerSupervisor supervisor = new WorkerSupervisor(chosen, common, maxRestarts, allowTf32, out);
        Signals.onTerm(supervisor::drainAll);
        List<String> failed = supervisor.run();
        if (!failed.isEmpty()) {
            throw new UserError("worker processes failed: " + String.join("; ", failed) + " (see their lines above)");
        }
        return 0;
    }

    private int runWorker() {
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
        AtomicInteger terms = new AtomicInteger();
        Signals.onTerm(() -> {
            if (terms.incrementAndGet() == 1) {
                out.println("worker " + id.workerId() + ": SIGTERM: draining (leaving at the next plan boundary;"
                        + " a second SIGTERM stops at once)");
                out.flush();
                node.drain();
            } else {
                System.exit(143);
            }
        });
        out.println("worker " + id.workerId() + " up: aeron " + id.aeronEndpoint() + ", dataset " + id.datasetHash()
                + ", seeds " + seedNodes + ", device " + id.device());
        out.flush();
        String failure = node.finished().join();
        Runtime.getRuntime().removeShutdownHook(hook);
        node.close();
        if (failure != null) {
            throw new UserError("worker " + id.workerId() + ": " + failure);
        }
        out.println("worker " + id.workerId() + (terms.get() > 0 ? ": drained" : ": run finished"));
        out.flush();
        return 0;
    }
}
