package org.clmr.ops.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code clmr bench}: the benchmarks; each prints a table, or one JSON object with {@code --json}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure a part of the system on this machine.",
        subcommands = {
                BenchData.class,
        })
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
