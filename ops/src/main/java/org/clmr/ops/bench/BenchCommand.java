package org.clmr.ops.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code clmr bench}: the benchmarks; each subcommand prints a table, or one JSON object with {@code --json}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (each takes --json).",
        subcommands = {
                BenchModel.class,
        })
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
