package org.clmr.ops.cluster;

import sun.misc.Signal;

/**
 * SIGTERM handling for long-running commands. The JVM's default answers SIGTERM with a shutdown (exit
 * 143); a worker instead drains, so the handler replaces it. {@code sun.misc.Signal} (module
 * jdk.unsupported) is the only way the JDK offers; the handler runs on a thread of its own.
 */
final class Signals {
    private Signals() {
    }

    /** Runs {@code action} on every SIGTERM this process receives, instead of shutting down. */
    static void onTerm(Runnable action) {
        Signal.handle(new Signal("TERM"), s -> action.run());
    }
}
