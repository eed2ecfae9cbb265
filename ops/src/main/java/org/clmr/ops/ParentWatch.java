package org.clmr.ops;

import java.util.Optional;

/**
 * A clmr process started by another clmr process (a local cluster's coordinator, workers and media driver, a
 * {@code --devices} supervisor's workers) stops when its parent is gone, however the parent died (Ctrl-C,
 * SIGTERM, SIGKILL, a crash): nothing is left running. The parent names itself in the environment variable
 * {@value #ENV} ({@link ClmrProcess} sets it); the child watches that process (the JDK tells a PID reused by
 * another process apart by its start time) and exits through its shutdown hooks, which stop it in order.
 * The watch runs on a JDK thread; {@link #start} is called once, from {@code main}.
 */
public final class ParentWatch {
    /** The environment variable naming the parent's PID. */
    public static final String ENV = "CLMR_PARENT_PID";
    /** The exit code of a process whose parent is gone. */
    static final int EXIT_PARENT_GONE = 1;

    private ParentWatch() {
    }

    /** Watches the parent named by {@value #ENV}, if any: when it is gone, says so on stderr and exits. */
    static void start(String command) {
        String pid = System.getenv(ENV);
        if (pid == null || pid.isBlank()) {
            return;
        }
        Optional<ProcessHandle> parent;
        try {
            parent = ProcessHandle.of(Long.parseLong(pid.trim()));
        } catch (NumberFormatException e) {
            System.err.println("clmr " + command + ": " + ENV + " = " + pid + " is not a process id; not watching it");
            return;
        }
        if (parent.isEmpty()) {
            stop(command, pid);
        }
        parent.get().onExit().thenRun(() -> stop(command, pid));
    }

    private static void stop(String command, String pid) {
        System.err.println("clmr " + command + ": its parent process " + pid + " is gone; stopping");
        System.exit(EXIT_PARENT_GONE);
    }
}
