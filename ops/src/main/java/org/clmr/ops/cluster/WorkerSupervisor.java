package org.clmr.ops.cluster;

import org.clmr.ops.ClmrProcess;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.process.JvmFlags;
import org.clmr.worker.device.CudaEnvironment;
import org.clmr.worker.device.DeviceInfo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code clmr worker --devices}: one {@code clmr worker --device D} process per device, supervised. Each
 * child's output comes through prefixed with its device ({@code [cuda:0] ...}). A child that fails (exit
 * code not 0) is started again after a pause, up to {@code maxRestarts} times; one that exits 0 (its run
 * finished, or it was drained) is done. SIGTERM to this process is forwarded to every child, which drains
 * it; this process returns when every child is done. Children get this JVM's {@code -Xmx}, {@code -D} and
 * {@code -XX:} flags (so {@code CLMR_JAVA_OPTS} reaches them). A child on GPU N also gets the CUDA
 * environment of {@link CudaEnvironment#forWorker}: it sees only its GPU (numbered in PCI bus order, as
 * nvidia-smi and {@code --devices} number them), with cuBLAS's deterministic workspace and TF32 off unless
 * allowed. This process itself never loads CUDA, so it holds no context on any GPU.
 */
final class WorkerSupervisor {
    private static final long RESTART_PAUSE_MS = 5000;

    private final List<DeviceInfo> devices;
    private final List<String> commonArgs;
    private final int maxRestarts;
    private final boolean allowTf32;
    private final PrintWriter out;
    private final Process[] children;
    private volatile boolean draining;

    /**
     * @param devices    one child per device
     * @param commonArgs arguments every child gets after {@code worker --device D}
     */
    WorkerSupervisor(List<DeviceInfo> devices, List<String> commonArgs, int maxRestarts, PrintWriter out) {
        this(devices, commonArgs, maxRestarts, false, out);
    }

    /** @param allowTf32 whether GPU children may use TF32 ({@code clmr.worker.cuda.allow-tf32}) */
    WorkerSupervisor(List<DeviceInfo> devices, List<String> commonArgs, int maxRestarts, boolean allowTf32,
                     PrintWriter out) {
        this.devices = List.copyOf(devices);
        this.commonArgs = List.copyOf(commonArgs);
        this.maxRestarts = maxRestarts;
        this.allowTf32 = allowTf32;
        this.out = out;
        this.children = new Process[devices.size()];
    }

    /** The command line of the child for device {@code i}. */
    List<String> childArgs(int i) {
        List<String> args = new ArrayList<>(List.of("worker", "--device", devices.get(i).id()));
        args.addAll(commonArgs);
        return args;
    }

    /** The environment variables the child for device {@code i} gets beyond this process's (none for the CPU). */
    Map<String, String> childEnvironment(int i) {
        String id = devices.get(i).id();
        if (devices.get(i).isCpu()) {
            return Map.of();
        }
        return CudaEnvironment.forWorker(Integer.parseInt(id.substring(id.indexOf(':') + 1)), allowTf32);
    }

    /**
     * Starts the children and waits until each is done.
     *
     * @return one line per device whose last process failed (empty when all exited 0)
     */
    List<String> run() {
        Thread[] watchers = new Thread[devices.size()];
        String[] failures = new String[devices.size()];
        for (int i = 0; i < devices.size(); i++) {
            int index = i;
            watchers[i] = new Thread(() -> failures[index] = supervise(index), "clmr-supervise-" + devices.get(i).id());
            watchers[i].start();
        }
        Thread hook = new Thread(this::drainAll, "clmr-supervisor-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < watchers.length; i++) {
            try {
                watchers[i].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                drainAll();
                failed.add(devices.get(i).id() + ": interrupted");
                continue;
            }
            if (failures[i] != null) {
                failed.add(failures[i]);
            }
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        return failed;
    }

    /** Forwards SIGTERM to every child (each drains) and starts no more processes. Any thread. */
    void drainAll() {
        boolean first = !draining;
        draining = true;
        if (first) {
            say("supervisor", "stopping: SIGTERM to every worker (each drains)");
        }
        synchronized (children) {
            for (Process p : children) {
                if (p != null && p.isAlive()) {
                    // through the handle: Process.destroy() would also close the pipe its output comes through
                    p.toHandle().destroy();
                }
            }
        }
    }

    private String supervise(int i) {
        String id = devices.get(i).id();
        int restarts = 0;
        while (true) {
            Process p;
            synchronized (children) {
                if (draining) {
                    return null;
                }
                p = start(i);
                children[i] = p;
            }
            say("supervisor", "started worker on " + devices.get(i).describe() + " (pid " + p.pid() + ")");
            copy(id, p);
            int code;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.toHandle().destroy();
                return id + ": interrupted";
            }
            if (code == 0) {
                say("supervisor", "worker on " + id + " exited 0");
                return null;
            }
            if (draining || restarts >= maxRestarts) {
                return id + " exited " + code + (draining ? " while draining" : " after " + restarts + " restarts");
            }
            restarts++;
            say("supervisor", "worker on " + id + " exited " + code + "; restart " + restarts + " of " + maxRestarts
                    + " in " + RESTART_PAUSE_MS / 1000 + " s");
            try {
                Thread.sleep(RESTART_PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return id + ": interrupted";
            }
        }
    }

    private Process start(int i) {
        JavaProcess child = ClmrProcess.of(childArgs(i)).pipeOutput();
        childEnvironment(i).forEach(child::env);
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Xmx")) {
                child.maxHeap(a.substring(4));
            } else if ((a.startsWith("-D") || a.startsWith("-XX:")) && !JvmFlags.flags().contains(a)) {
                child.jvmArg(a);
            }
        }
        return child.start();
    }

    /** Copies a child's output, each line prefixed with its device, on a daemon thread. */
    private void copy(String id, Process p) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    say(id, line);
                }
            } catch (IOException e) {
                say(id, "(output lost: " + e.getMessage() + ")");
            }
        }, "clmr-output-" + id);
        t.setDaemon(true);
        t.start();
    }

    private void say(String who, String line) {
        synchronized (out) {
            out.println("[" + who + "] " + line);
            out.flush();
        }
    }
}
