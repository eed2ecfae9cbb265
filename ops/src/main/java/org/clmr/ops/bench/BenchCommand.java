package org.clmr.ops.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code clmr bench}: the parent of the benchmarks; each prints a table, or one JSON object with --json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks; each prints a table, or one JSON object of its figures with --json.",
        subcommands = {
                BenchAugment.class,
                BenchAllReduce.class,
                BenchData.class,
                BenchModel.class,
                BenchStep.class,
        })
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
