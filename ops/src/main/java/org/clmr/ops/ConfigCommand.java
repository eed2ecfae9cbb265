package org.clmr.ops;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.security.Redaction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code clmr config}: prints the resolved configuration under {@code clmr} and its SHA-256, validated. Secrets
 * (passwords, and passwords inside URLs) show as {@code <redacted>} ({@link Redaction}): operators run this command
 * with the production environment and paste its output.
 */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = {"Print the resolved configuration under `clmr` and its SHA-256; exit 2 naming the key if a value is invalid.",
                "Passwords show as <redacted>."})
final class ConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--hash-only", description = "Print only the configuration's SHA-256")
    boolean hashOnly;

    @Override
    public Integer call() {
        Config config = options.load();
        // hashed without its secrets: a printed hash must not let anyone test guesses of a password offline
        Config shown = Redaction.redact(config);
        String hash = ClmrConfig.hash(shown);
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (!hashOnly) {
            out.println("clmr " + ClmrConfig.render(shown));
            out.println("# run spec hash: " + RunSpec.from(config).hash());
        }
        out.println(hashOnly ? hash : "# config sha256: " + hash);
        out.flush();
        return 0;
    }
}
