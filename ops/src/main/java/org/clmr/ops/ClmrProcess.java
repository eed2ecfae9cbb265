package org.clmr.ops;

import org.clmr.protocol.process.JavaProcess;

import java.util.List;

/**
 * A child JVM that runs the {@code clmr} command line: how the commands that start other clmr processes (a local
 * cluster's coordinator and workers, an Aeron media driver, a device supervisor's workers) name the CLI's main
 * class. It holds that name as a string, so those commands need not import the CLI root {@code Clmr}, which lists
 * them as its subcommands. Stateless; any thread.
 */
public final class ClmrProcess {
    /** The main class of the {@code clmr} command line ({@code ClmrTest} checks that it is the CLI root's name). */
    public static final String MAIN_CLASS = "org.clmr.ops.Clmr";

    private ClmrProcess() {
    }

    /**
     * A JVM (not yet started) that will run {@code clmr args...} with the flags and malloc settings of every clmr
     * process; it stops when this process is gone ({@link ParentWatch}).
     */
    public static JavaProcess of(List<String> args) {
        return JavaProcess.of(MAIN_CLASS).args(args).env(ParentWatch.ENV, String.valueOf(ProcessHandle.current().pid()));
    }
}
