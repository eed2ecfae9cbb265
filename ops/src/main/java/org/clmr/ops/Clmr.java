package org.clmr.ops;

import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code clmr} command. Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.
 */
@Command(name = "clmr",
        mixinStandardHelpOptions = true,
        versionProvider = Clmr.Version.class,
        description = "Contrastive Learning of Musical Representations, trained as an elastic cluster.",
        subcommands = {
                ConfigCommand.class,
                org.clmr.ops.eval.MetricsCommand.class,
                org.clmr.ops.eval.EvaluateCommand.class,
                org.clmr.ops.eval.EmbedCommand.class,
                org.clmr.ops.cluster.CoordinatorCommand.class,
                org.clmr.ops.cluster.StatusCommand.class,
                org.clmr.ops.cluster.HistoryCommand.class,
                org.clmr.ops.report.ReportCommand.class,
                org.clmr.ops.cluster.ControlCommand.class,
                org.clmr.ops.cluster.WorkerCommand.class,
                org.clmr.ops.driver.DriverCommand.class,
                org.clmr.ops.demo.DemoCommand.class,
                org.clmr.ops.data.PrepareCommand.class,
                org.clmr.ops.augment.AugmentCommand.class,
                org.clmr.ops.model.ModelCommand.class,
                org.clmr.ops.model.TrainCommand.class,
                org.clmr.ops.model.ExportCommand.class,
                org.clmr.ops.bench.BenchCommand.class,
                org.clmr.ops.keys.KeysCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Clmr implements Runnable {

    /** Exit code for a failure at run time. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code for bad usage or configuration. */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        ParentWatch.start(args.length > 0 ? args[0] : "");
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    /** The configured picocli command line. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Clmr());
        cl.setExecutionStrategy(OptionRanges.checkingFirst());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable e = ex;
            while (e.getCause() != null && !(e instanceof SettingsException) && !(e instanceof UserError)) {
                e = e.getCause();
            }
            if (e instanceof SettingsException) {
                commandLine.getErr().println("clmr " + commandLine.getCommandName() + ": " + e.getMessage());
                return EXIT_USAGE;
            }
            if (e instanceof UserError) {
                commandLine.getErr().println("clmr " + commandLine.getCommandName() + ": " + e.getMessage());
                return EXIT_FAILURE;
            }
            commandLine.getErr().println("clmr " + commandLine.getCommandName() + ": internal error: " + ex);
            ex.printStackTrace(commandLine.getErr());
            return EXIT_FAILURE;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("clmr " + c.getCommandName() + ": " + ex.getMessage()
                    + " (see clmr " + (c.getCommandName().equals("clmr") ? "" : c.getCommandName() + " ") + "--help)");
            return EXIT_USAGE;
        });
        return cl;
    }

    /** Reports the build and protocol versions. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "clmr " + BuildInfo.version() + " (protocol " + BuildInfo.protocolVersion() + ")",
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
            };
        }
    }
}
