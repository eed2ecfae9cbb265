package org.clmr.ops.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code clmr bench}: the benchmarks' parent command; each prints a table, or one JSON object with --json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the system's parts (each takes --json).",
        subcommands = {
                BenchAllReduce.class,
        })
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
